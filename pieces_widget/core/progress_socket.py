"""One model's progress socket, one connection at a time: connect (with the token), read frames
into the download's state, ping and reconcile while it is quiet, relay only the newest frame."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Protocol

import websocket

from .capped_ws import MAX_FRAME_BYTES, FrameTooLarge, capped_websocket, more_waiting
from .errors import ModelNotFoundError, PiecesError
from .models import FAILED, RESET, TERMINAL_STATUSES, Model, readable_bytes
from .progress_state import ProgressState
from .stream_timing import StreamTiming
from .ws_open import Shuttable, connect

log = logging.getLogger("pieces_widget.progress")


class ModelSource(Protocol):
    """What the stream needs of a client (``PiecesClient`` is one)."""

    timeout: tuple[float, float]

    def ws_url(self, path: str) -> str: ...

    def model_path(self, model_id: str, action: str = "") -> str: ...

    def snapshot(self, model_id: str) -> Model: ...

    def interrupt(self, threads: Collection[threading.Thread]) -> None: ...


class SocketSession(Shuttable):
    """Connections to the progress socket of ``model_id``; frames go to ``state``, and
    ``reconcile()`` asks the model (``GET /model/{id}``) when the socket cannot say."""

    def __init__(
        self,
        client: ModelSource,
        model_id: str,
        state: ProgressState,
        timing: StreamTiming,
        reconcile: Callable[[], None],
        stop: threading.Event,
    ) -> None:
        self.client, self.model_id = client, model_id
        self.state, self.timing = state, timing
        self._reconcile, self._stop = reconcile, stop
        self._ws: websocket.WebSocket | None = None

    def _done(self) -> bool:
        return self._stop.is_set() or self.state.finished

    def run(self) -> str:
        """One connection: 'frames' (it delivered some), 'closed', 'error', 'refused'."""
        ws = capped_websocket()
        self._ws = ws
        try:
            connect(ws, self.client, self.client.model_path(self.model_id, "download/progress"))
        except websocket.WebSocketBadStatusException as exc:
            if exc.status_code == 410:
                self.state.finish(FAILED, str(ModelNotFoundError(self.model_id)))
            self._reconcile()
            return "refused"
        except (OSError, websocket.WebSocketException, PiecesError) as exc:
            log.info("progress socket for %r: %s", self.model_id, exc)
            self.state.lost = True
            self._reconcile()
            return "error"
        try:
            self._reconcile()  # what happened while no socket was open?
            return "closed" if self._done() else self._read(ws)
        finally:
            self._ws = None
            ws.close(timeout=0.2)

    def _read(self, ws: websocket.WebSocket) -> str:
        """Frames until the socket closes or breaks; reconciles and pings while it is quiet."""
        ws.settimeout(0.25)
        timing, state = self.timing, self.state
        saw_frame = False
        now = time.monotonic()
        heard = reconciled = now  # the last frame (or pong), the last GET /model
        pinged: float | None = None  # a ping waiting for its pong
        superseded: str | bytes | None = None  # a frame with a newer one already waiting
        while not self._done():
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except FrameTooLarge as exc:
                state.finish(FAILED, _too_large(exc.size))
                break
            except websocket.WebSocketTimeoutException:
                now = time.monotonic()
                if pinged is not None and now - pinged > timing.pong_within:
                    log.info("progress socket for %r: no pong, reconnecting", self.model_id)
                    state.lost = True
                    break
                if pinged is None and now - heard > timing.ping_every:
                    with contextlib.suppress(OSError, websocket.WebSocketException):
                        ws.ping()
                    pinged = now
                if now - reconciled > timing.reconcile_every:
                    reconciled = now
                    self._reconcile()
                continue
            except (OSError, websocket.WebSocketException):
                state.lost = True  # broken without a close: the server may have died
                break
            heard, pinged = time.monotonic(), None
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            if opcode in (websocket.ABNF.OPCODE_PONG, websocket.ABNF.OPCODE_PING):
                continue
            if opcode != websocket.ABNF.OPCODE_TEXT:
                log.warning("ignoring a non-text progress frame (opcode %s)", opcode)
                continue
            must = _must_deliver(data)
            if not must and more_waiting(ws):
                superseded = data  # each frame is a whole state: only the newest matters
                continue
            if must and superseded is not None:  # an end: the figures it ends on come first
                saw_frame = state.frame(superseded) or saw_frame
            saw_frame = state.frame(data) or saw_frame
            superseded = None
            if timing.relay_every and self._stop.wait(timing.relay_every):
                break
        if superseded is not None:
            saw_frame = state.frame(superseded) or saw_frame
        if not self._done():
            self._reconcile()  # the socket dropped or closed: what does the model say?
        return "frames" if saw_frame else "closed"


def _too_large(size: int) -> str:
    return (
        f"Pieces OS sent a progress message of {readable_bytes(size)}, over the "
        f"{readable_bytes(MAX_FRAME_BYTES)} a progress frame may have: stopped following this "
        "download (it may go on in Pieces OS)"
    )


def _must_deliver(data: str | bytes) -> bool:
    """Cheap check that a frame may carry a status no newer frame can replace (an end or a
    RESET): such frames are never skipped."""
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return RESET in text or any(status in text for status in TERMINAL_STATUSES)
