"""The download-progress stream of one model: a WebSocket thread that follows Pieces OS as it is.

What public clients show of Pieces OS's progress socket: a frame when the percentage changes
(so frames can be seconds apart), INITIALIZED before any percentage, RESET when a download
starts over; a snapshot on connect and a close after the end are not documented. So:

- silence on an open socket is not a failure: the socket is kept, pinged for liveness, and the
  model is reconciled with ``GET /model/{id}`` alongside it every few seconds;
- after a drop or a server restart the stream goes back to the socket (backoff); it polls
  ``GET /model/{id}`` only while no socket can be had, and keeps trying the socket;
- a download that has not started yet is not an end: only a terminal frame, a model that became
  downloaded, a server ``error``, or a model idle after it *was* downloading end the stream;
- percentages are clamped and never go backwards, except after RESET, which starts over;
  UNKNOWN is neither an end nor a failure; malformed frames of any shape are logged and skipped;
- a message over ``MAX_FRAME_BYTES`` is refused from its header, before its payload is read
  (websocket-client has no size limit: it would read any length into memory), and ends the
  stream FAILED: a server that sends one is not one to follow.

A download the server lost (it was unreachable or the socket broke, and the model then reads
neither downloading nor downloaded, with no reason) is handed to ``resume``: asking again
continues from whatever the server kept.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import NoReturn, Protocol

import websocket
from websocket._abnf import continuous_frame, frame_buffer

from .client import TOKEN_HEADER
from .errors import ModelNotFoundError, PiecesConnectionError, PiecesError
from .models import (
    CANCELED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NO_REASON,
    RESET,
    TERMINAL_STATUSES,
    DownloadProgress,
    Model,
    readable_bytes,
)

log = logging.getLogger("pieces_widget.progress")
MAX_FRAME_BYTES = 64 * 1024  # a frame is a status and a number: anything longer is not one


class FrameTooLarge(websocket.WebSocketPayloadException):
    """A progress message over ``MAX_FRAME_BYTES``, refused before its payload was read."""

    def __init__(self, size: int) -> None:
        super().__init__(f"a progress message of {size} bytes")
        self.size = size


class _CappedFrames(frame_buffer):
    """websocket-client's frame reader, refusing a frame whose header announces more than
    ``cap`` bytes before any of its payload is read. Once it has refused one, every later read
    fails too (the stream is out of step), so even a closing handshake reads nothing more.

    It reads what the socket has (up to ``READ_AHEAD`` bytes) rather than exactly what the next
    field needs, so frames that came together cost one read, not two per frame. (UTF-8 is not
    validated here: ``loads`` decodes, replacing what is not UTF-8.)"""

    READ_AHEAD = 4096

    def __init__(self, recv: Callable[[int], bytes], cap: int) -> None:
        super().__init__(recv, skip_utf8_validation=True)
        self.cap = cap
        self.refused: int | None = None  # the size of the message refused

    @property
    def buffered(self) -> bool:
        """True when bytes already read wait here (a frame ``select`` cannot see)."""
        return any(self.recv_buffer)

    def recv_strict(self, bufsize: int) -> bytes:
        shortage = bufsize - sum(len(b) for b in self.recv_buffer)
        while shortage > 0:
            chunk = self.recv(max(shortage, self.READ_AHEAD))
            if not isinstance(chunk, bytes):
                break
            self.recv_buffer.append(chunk)
            shortage -= len(chunk)
        unified = b"".join(self.recv_buffer)
        self.recv_buffer = [unified[bufsize:]] if len(unified) > bufsize else []
        return unified[:bufsize]

    def refuse(self, size: int) -> NoReturn:
        self.refused = size
        raise FrameTooLarge(size)

    def recv_frame(self) -> websocket.ABNF:
        if self.refused is not None:
            raise FrameTooLarge(self.refused)
        return super().recv_frame()

    def recv_length(self) -> None:
        super().recv_length()
        if self.length is not None and self.length > self.cap:
            self.refuse(self.length)


class _CappedMessages(continuous_frame):
    """websocket-client's reassembly of fragmented messages, with the same cap on the whole."""

    def __init__(self, frames: _CappedFrames) -> None:
        super().__init__(fire_cont_frame=False, skip_utf8_validation=True)
        self.frames = frames

    def add(self, frame: websocket.ABNF) -> None:
        super().add(frame)
        size = len(self.cont_data[1]) if self.cont_data else 0
        if size > self.frames.cap:
            self.cont_data, self.recving_frames = None, None
            self.frames.refuse(size)


def capped_websocket(cap: int = MAX_FRAME_BYTES) -> websocket.WebSocket:
    """A ``websocket.WebSocket`` that never holds a message over ``cap`` bytes in memory
    (websocket-client has no such option; its frame reader and reassembly are replaced)."""
    ws = websocket.WebSocket(enable_multithread=True)
    frames = _CappedFrames(ws._recv, cap)
    ws.frame_buffer = frames
    ws.cont_frame = _CappedMessages(frames)
    return ws


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


class ModelSource(Protocol):
    """What the stream needs of a client (``PiecesClient`` is one)."""

    timeout: tuple[float, float]

    def ws_url(self, path: str) -> str: ...

    def model_path(self, model_id: str, action: str = "") -> str: ...

    def model(self, model_id: str) -> Model: ...

    def interrupt(self, threads: Collection[threading.Thread]) -> None: ...


class ProgressTracker:
    """What the frames of one download add up to: never backwards but after a RESET, nothing
    after the end."""

    def __init__(self) -> None:
        self.last: DownloadProgress | None = None
        self.final: DownloadProgress | None = None

    @property
    def percentage(self) -> float | None:
        return self.last.percentage if self.last else None

    def parse(self, text: str | bytes) -> DownloadProgress | None:
        if len(text) > MAX_FRAME_BYTES:
            log.warning("ignoring a progress frame of %d characters", len(text))
            return None
        try:
            return DownloadProgress.from_json(text)
        except (ValueError, RecursionError) as exc:
            log.warning("ignoring a malformed progress frame %.80r: %s", text, exc)
            return None

    def accept(self, progress: DownloadProgress) -> DownloadProgress | None:
        """The progress to report, or None when the frame must be ignored; a FAILED always
        carries a reason."""
        if self.final is not None:
            return None
        percentage = progress.percentage
        if progress.status == RESET:
            percentage = percentage or 0.0  # the download starts over
        elif percentage is None or (self.percentage is not None and percentage < self.percentage):
            percentage = self.percentage
        if progress.status == COMPLETED:
            percentage = 100.0
        error = progress.error
        if progress.status == FAILED and not error:
            error = NO_REASON
        accepted = DownloadProgress(progress.status, percentage, progress.raw, error)
        self.last = accepted
        if accepted.terminal:
            self.final = accepted
        return accepted


class ProgressStream:
    """A thread forwarding one model's download progress to ``on_progress`` until it ends.

    ``on_life()`` is called the first time the server shows the download running (a percentage,
    IN-PROGRESS, or ``downloading: true``); ``stale_error`` is the model's ``error`` from before
    this download was asked for, which says nothing about this one.
    """

    def __init__(
        self,
        client: ModelSource,
        model_id: str,
        on_progress: Callable[[DownloadProgress], None],
        *,
        canceled: Callable[[], bool] = lambda: False,
        resume: Callable[[Model], str | None] | None = None,
        on_life: Callable[[], None] = lambda: None,
        stale_error: str | None = None,
        timing: StreamTiming | None = None,
    ) -> None:
        """``resume(model)`` asks the server to download a model it lost again: None when it
        asked (or will ask later), else why it cannot, which ends the stream FAILED."""
        self.client = client
        self.model_id = model_id
        self.tracker = ProgressTracker()
        self.timing = timing or StreamTiming()
        self._on_progress = on_progress
        self._canceled = canceled
        self._resume = resume
        self._on_life = on_life
        self._stale_error = stale_error
        self._stop = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self.alive_seen = False  # the server has shown this download running
        self._idle_since: float | None = None
        self._lost = False  # the server went away (or the socket broke) since it last downloaded
        self.mode = "websocket"  # or "polling" while no socket can be had
        self._thread = threading.Thread(
            target=self._run, name=f"pieces-progress:{model_id[:40]}", daemon=True
        )

    # -- control -----------------------------------------------------------------------------
    def start(self) -> ProgressStream:
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Close the socket, cut a request in flight, and end the thread (within ``timeout``)."""
        self._stop.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):  # half-open or gone: it is going away anyway
                ws.shutdown()
        self.client.interrupt([self._thread])
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return self.tracker.final is not None

    def _done(self) -> bool:
        return self._stop.is_set() or self.finished

    def _emit(self, progress: DownloadProgress) -> None:
        if progress.percentage is not None or progress.status in (IN_PROGRESS, RESET):
            self._saw_life()
        accepted = self.tracker.accept(progress)
        if accepted is not None:
            try:
                self._on_progress(accepted)
            except Exception:
                log.exception("progress callback failed")

    def _saw_life(self) -> None:
        self._lost, self._idle_since = False, None
        if not self.alive_seen:
            self.alive_seen = True
            self._on_life()

    def _finish(self, status: str, error: str | None = None) -> None:
        self._emit(DownloadProgress(status, self.tracker.percentage, error=error))

    # -- the thread --------------------------------------------------------------------------
    def _run(self) -> None:
        delay = self.timing.backoff[0]
        try:
            while not self._done():
                outcome = self._session()
                if self._done():
                    break
                if outcome == "frames":
                    delay = self.timing.backoff[0]
                # No socket now: poll the model until it is time to try the socket again.
                self.mode = "websocket" if outcome == "frames" else "polling"
                if self._poll_for(delay):
                    break
                if outcome != "frames":
                    delay = min(delay * 2, self.timing.backoff[1])
        except Exception:  # never let the thread die silently
            log.exception("progress stream for %r crashed", self.model_id)
            self._finish(FAILED, "the progress stream stopped unexpectedly")

    def _poll_for(self, seconds: float) -> bool:
        """Reconcile about every ``poll_every`` s for ``seconds``; True when the stream is done."""
        until = time.monotonic() + seconds
        while not self._done():
            left = until - time.monotonic()
            if left <= 0:
                return False
            if self._stop.wait(min(left, self.timing.poll_every)):
                return True
            self._reconcile()
        return True

    def _session(self) -> str:
        """One connection: 'frames' (it delivered some), 'closed', 'error', 'refused'."""
        ws = capped_websocket()
        self._ws = ws
        try:
            ws.settimeout(self.client.timeout[1])  # the handshake is a request: read timeout
            url = self.client.ws_url(self.client.model_path(self.model_id, "download/progress"))
            ws.connect(url, suppress_origin=True, header=_token_header(self.client))
        except websocket.WebSocketBadStatusException as exc:
            if exc.status_code == 410:
                self._finish(FAILED, str(ModelNotFoundError(self.model_id)))
            self._reconcile()
            return "refused"
        except (OSError, websocket.WebSocketException, PiecesError) as exc:
            log.info("progress socket for %r: %s", self.model_id, exc)
            self._lost = True
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
        timing = self.timing
        saw_frame = False
        now = time.monotonic()
        heard = reconciled = now  # the last frame (or pong), the last GET /model
        pinged: float | None = None  # a ping waiting for its pong
        superseded: str | bytes | None = None  # a frame with a newer one already waiting
        while not self._done():
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except FrameTooLarge as exc:
                self._finish(FAILED, _too_large(exc.size))
                break
            except websocket.WebSocketTimeoutException:
                now = time.monotonic()
                if pinged is not None and now - pinged > timing.pong_within:
                    log.info("progress socket for %r: no pong, reconnecting", self.model_id)
                    self._lost = True
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
                self._lost = True  # broken without a close: the server may have died
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
            if not must and _more_waiting(ws):
                superseded = data  # each frame is a whole state: only the newest matters
                continue
            if must and superseded is not None:  # an end: the figures it ends on come first
                saw_frame = self._handle(superseded) or saw_frame
            saw_frame = self._handle(data) or saw_frame
            superseded = None
            if timing.relay_every and self._stop.wait(timing.relay_every):
                break
        if superseded is not None:
            saw_frame = self._handle(superseded) or saw_frame
        if not self._done():
            self._reconcile()  # the socket dropped or closed: what does the model say?
        return "frames" if saw_frame else "closed"

    def _handle(self, text: str | bytes) -> bool:
        progress = self.tracker.parse(text)
        if progress is None:
            return False
        self._emit(progress)
        return True

    def _reconcile(self) -> None:
        """Ask ``GET /model/{id}`` and end the stream when the model shows the download ended."""
        try:
            model = self.client.model(self.model_id)
        except ModelNotFoundError as exc:
            self._finish(FAILED, str(exc))
            return
        except PiecesError as exc:
            log.info("reconcile of %r failed: %s", self.model_id, exc)
            if isinstance(exc, PiecesConnectionError):
                self._lost = True
            return
        if model.downloading:
            self._saw_life()
            return
        if model.downloaded:
            self._finish(COMPLETED)
            return
        if model.error and model.error != self._stale_error:
            self._finish(FAILED, model.error)
            return
        # Idle: not started yet (Pieces OS can take a while), or ended, or lost by a restart.
        if not (self.alive_seen or self._lost or self._canceled()):
            return  # still starting: only the job's patience clock runs
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if self._canceled() or now - self._idle_since >= self.timing.idle_grace:
            self._ended_idle(model)

    def _ended_idle(self, model: Model) -> None:
        """The model stays idle: canceled, lost by a server that went away (``resume`` asks
        again), or stopped without a word."""
        if self._canceled():
            self._finish(CANCELED)
        elif self._lost and self._resume is not None:
            why_not = self._resume(model)
            if why_not is None:
                self._lost, self._idle_since = False, None
            else:
                self._finish(FAILED, why_not)
        else:
            kept = partial_kept(model)
            self._finish(FAILED, f"Pieces OS stopped the download without saying why; {kept}")


def _too_large(size: int) -> str:
    return (
        f"Pieces OS sent a progress message of {readable_bytes(size)}, over the "
        f"{readable_bytes(MAX_FRAME_BYTES)} a progress frame may have: stopped following this "
        "download (it may go on in Pieces OS)"
    )


def partial_kept(model: Model) -> str:
    """What is left of a download that ended early, in words: a resume is promised only where
    the server reports ``partialBytes`` (Pieces OS may restart a download from zero)."""
    partial, total = model.partial_bytes, model.bytes
    if partial and total:
        kept = min(99, partial * 100 // total)
        return f"{kept} % is kept, downloading it again resumes from there."
    return "download it again to start over."


def _must_deliver(data: str | bytes) -> bool:
    """Cheap check that a frame may carry a status no newer frame can replace (an end or a
    RESET): such frames are never skipped."""
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return RESET in text or any(status in text for status in TERMINAL_STATUSES)


def _more_waiting(ws: websocket.WebSocket) -> bool:
    """True when more bytes (a newer frame) wait, read ahead or in the socket."""
    frames = ws.frame_buffer
    if isinstance(frames, _CappedFrames) and frames.buffered:
        return True
    sock = ws.sock
    if sock is None:
        return False
    pending = getattr(sock, "pending", None)  # TLS buffers what select cannot see
    if pending is not None and pending():
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed meanwhile (stop() shuts the socket)
        return False


def iterate_progress(
    client: ModelSource, model_id: str, timeout: float | None = None
) -> Iterator[DownloadProgress]:
    """Yield progress until a terminal status; ``TimeoutError`` if ``timeout`` runs out first."""
    updates: queue.Queue[DownloadProgress] = queue.Queue()
    stream = ProgressStream(client, model_id, updates.put).start()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"no end of the download of {model_id!r} within {timeout} s")
            try:
                progress = updates.get(timeout=left)
            except queue.Empty:
                continue
            yield progress
            if progress.terminal:
                return
    finally:
        stream.stop()


def _token_header(client: ModelSource) -> list[str]:
    """The reference server's token (``--allow-remote``), if the client sends one."""
    session = getattr(client, "session", None)
    token = session.headers.get(TOKEN_HEADER) if session is not None else None
    return [f"{TOKEN_HEADER}: {token}"] if token else []
