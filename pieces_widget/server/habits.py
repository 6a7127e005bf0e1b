"""Options that make the reference server behave as the real Pieces OS does, as its public
clients and issue tracker describe it. Every one is off by default: the defaults are the
server's own, well-behaved habits. ``python -m pieces_widget.server --pieces-os-habits`` turns
on the preset ``PIECES_OS``; each field's docstring names the public source it imitates (or
says it is our assumption)."""

from __future__ import annotations

from dataclasses import dataclass, replace

POS_VERSION = "11.0.0"  # the Pieces OS API generation this server follows
FRAME_INTERVAL = 0.1  # our own cap: at most ~10 progress frames a second per socket
INITIALIZED_EVERY = 1.0  # seconds between INITIALIZED frames while a download waits to begin


@dataclass(frozen=True)
class Habits:
    start_delay: float = 0.0
    """Seconds between ``POST /model/{id}/download`` and the transfer's first byte; meanwhile
    the model says ``downloading: false`` and the progress socket sends INITIALIZED frames
    without a percentage. Imitates: the official C# SDK polls ``GET /model/{id}`` every 100 ms
    "to wait for downloading to begin", and users report downloads sitting in INITIALIZED (since
    Pieces OS 11 a download goes through Ollama first). The length is our assumption."""

    frame_interval: float = FRAME_INTERVAL
    """At most one progress frame per this many seconds per socket; a terminal frame goes out
    at once. Imitates: Pieces OS sends a frame when the percentage changes, so on a slow link
    or a big model frames are seconds apart (the official examples update a bar per frame)."""

    snapshot: bool = True
    """The progress socket sends the current state on connect. Pieces OS's docs do not say it
    does (undocumented: assumed absent by ``--no-snapshot``)."""

    keep_socket_open: bool = False
    """The server keeps the progress socket open after a terminal frame and streams the
    model's next download on it. Imitates the official TypeScript example, which keeps one
    socket per model open across downloads (whether Pieces OS closes it is undocumented)."""

    cancel_discards: bool = False
    """A cancel deletes the partial file; no ``partialBytes`` is ever reported and every
    download starts from byte 0. Imitates Pieces OS's older stack, which restarted a canceled
    download from zero (Pieces support#527); no public source shows 11+ keeping partial data."""

    reset_at: float | None = None
    """The first time a transfer passes this percentage it starts over from byte 0 and sends a
    RESET frame (percentage 0). RESET is a value of the official status enum; that it means
    "starting over" is our assumption."""

    unknown_every: float | None = None
    """Every this many seconds of a running download, an UNKNOWN frame (no percentage) goes out
    between the normal ones. UNKNOWN is a value of the official status enum; when Pieces OS
    sends it is not documented (our assumption: at any time, without ending the download)."""

    version: str = POS_VERSION
    """What ``GET /.well-known/version`` answers (Pieces OS answers its own version)."""

    as_pieces_os: bool = False
    """No ``/.well-known/capabilities`` route (404, as on Pieces OS), so a client cannot tell
    it is talking to the reference server."""


# --pieces-os-habits: how the public sources describe Pieces OS, with a 3 s start as our guess.
PIECES_OS = Habits(
    start_delay=3.0,
    frame_interval=2.0,
    snapshot=False,
    keep_socket_open=True,
    cancel_discards=True,
    as_pieces_os=True,
)


def build_habits(preset: bool = False, **given: object) -> Habits:
    """The preset (or the defaults) with the options that were given (not None) on top."""
    base = PIECES_OS if preset else Habits()
    return replace(base, **{k: v for k, v in given.items() if v is not None})
