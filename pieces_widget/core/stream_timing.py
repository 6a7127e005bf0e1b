"""The progress stream's clocks, in one place (tests shorten them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamTiming:
    """The stream's clocks (seconds); tests shorten them."""

    reconcile_every: float = 2.0  # GET /model/{id} alongside a quiet socket
    idle_grace: float = 3.0  # a model that was downloading must look idle this long to end
    ping_every: float = 5.0  # a ping on a quiet socket...
    pong_within: float = 10.0  # ...must be answered within this, or the socket is dropped
    poll_every: float = 1.0  # GET /model/{id} while no socket can be had
    backoff: tuple[float, float] = (0.1, 4.0)  # reconnect delays: first, longest
    # After relaying a frame with none waiting, rest this long: the frames that come meanwhile
    # are read together and only the newest is relayed (each is a whole state). A flood is read
    # at full speed; a frame every 0.1 s costs a wake-up every ``relay_every`` s, not ten.
    relay_every: float = 0.2
