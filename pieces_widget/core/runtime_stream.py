"""One connection to Pieces OS's Ollama status socket (``/ollama/status/stream``): it sends the
``OllamaStatus`` on connect and on every change. The same caps as the progress socket: a
message over ``MAX_FRAME_BYTES`` is refused before it is read, the handshake has the client's
read timeout, a quiet socket is pinged and dropped when no pong comes."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import websocket

from .capped_ws import MAX_FRAME_BYTES, FrameTooLarge, capped_websocket
from .errors import PiecesError
from .models import loads, readable_bytes
from .ws_open import Shuttable, connect

log = logging.getLogger("pieces_widget.runtime")

STREAM_PATH = "/ollama/status/stream"
Outcome = Literal["refused", "error", "closed", "too-large", "stopped"]


@dataclass(frozen=True)
class RuntimeTiming:
    """How an Ollama install or update is followed (seconds); tests shorten them."""

    poll_every: float = 0.5  # GET /ollama/status while no socket can be had
    retry_socket_every: float = 2.0  # while polling, try the socket again this often
    reconcile_every: float = 5.0  # GET the deployment alongside a quiet socket
    ping_every: float = 5.0  # a ping on a quiet socket...
    pong_within: float = 10.0  # ...must be answered within this, or the socket is dropped


class StatusSource(Protocol):
    """What the socket needs of a client (``PiecesClient`` is one)."""

    timeout: tuple[float, float]

    def ws_url(self, path: str) -> str: ...

    def interrupt(self, threads: Collection[threading.Thread]) -> None: ...


class StatusSocket(Shuttable):
    """Connections to the status socket; each ``OllamaStatus`` frame goes to ``on_status``,
    ``on_quiet`` runs about every 0.25 s while no frame comes. ``finished()`` ends the read."""

    def __init__(
        self,
        client: StatusSource,
        on_status: Callable[[dict[str, Any]], None],
        on_quiet: Callable[[], None],
        finished: Callable[[], bool],
        timing: RuntimeTiming,
    ) -> None:
        self.client = client
        self._on_status, self._on_quiet, self._finished = on_status, on_quiet, finished
        self.timing = timing
        self.frames = 0  # OllamaStatus frames taken (over every connection)
        self.ignored = 0  # frames that were no OllamaStatus
        self.problem = ""  # why the socket was given up for good ("" while it may serve)
        self._ws: websocket.WebSocket | None = None

    def run(self) -> Outcome:
        """One connection, read until it closes, breaks or ``finished()``."""
        ws = capped_websocket()
        self._ws = ws  # a stop() before the check ends here; one after it shuts this socket
        try:
            if self._finished():
                return "stopped"
            try:
                connect(ws, self.client, STREAM_PATH)
            except websocket.WebSocketBadStatusException as exc:
                if exc.status_code >= 500:  # may pass: try again later
                    log.info("Ollama status socket: %s", exc)
                    return "error"
                # 404: a Pieces OS without this socket (or one that refuses it): poll for good
                self.problem = f"Pieces OS answered {exc.status_code} to {STREAM_PATH}"
                return "refused"
            except (OSError, websocket.WebSocketException, PiecesError) as exc:
                log.info("Ollama status socket: %s", exc)
                return "error"
            return self._read(ws)
        finally:
            self._ws = None
            ws.close(timeout=0.2)

    def _read(self, ws: websocket.WebSocket) -> Outcome:
        ws.settimeout(0.25)
        timing = self.timing
        heard = time.monotonic()
        pinged: float | None = None
        while not self._finished():
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except FrameTooLarge as exc:
                self.problem = (
                    f"Pieces OS sent an Ollama status message of {readable_bytes(exc.size)}, "
                    f"over the {readable_bytes(MAX_FRAME_BYTES)} one may have: asking "
                    "instead"
                )
                log.warning("%s", self.problem)
                return "too-large"
            except websocket.WebSocketTimeoutException:
                now = time.monotonic()
                if pinged is not None and now - pinged > timing.pong_within:
                    log.info("Ollama status socket: no pong, dropping it")
                    return "error"
                if pinged is None and now - heard > timing.ping_every:
                    with contextlib.suppress(OSError, websocket.WebSocketException):
                        ws.ping()
                    pinged = now
                self._on_quiet()
                continue
            except (OSError, websocket.WebSocketException):
                return "error"  # broken without a close: the server may have died
            heard, pinged = time.monotonic(), None
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return "closed"
            if opcode != websocket.ABNF.OPCODE_TEXT:
                continue  # pings, pongs; a binary frame is no status
            status = _status(data)
            if status is None:
                self.ignored += 1
                log.info("Ollama status socket: ignored a frame that is no OllamaStatus")
                continue
            self.frames += 1
            self._on_status(status)
        return "stopped"


def _status(data: str | bytes) -> dict[str, Any] | None:
    try:
        value = loads(data)
    except ValueError:  # not JSON, or nested too deep (JSONTooDeep is a ValueError)
        return None
    return value if isinstance(value, dict) else None
