"""The download-progress stream of one model: a WebSocket thread that survives real-world faults.

Pieces OS does not document whether its progress socket sends a snapshot on connect or closes
after the end, so nothing here relies on either: after every (re)connect the model is
reconciled with ``GET /model/{id}``; a refused upgrade or a silent socket falls back to polling
about once a second; malformed frames are logged and skipped; percentages are clamped and never
go backwards; nothing is accepted after a terminal status.

A download the server lost (the server was unreachable or the socket broke, and the model then
reads neither downloading nor downloaded, with no reason) is handed to ``resume``: Pieces OS
restarted, and asking again continues from the partial file it kept.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import websocket

from .errors import ModelNotFoundError, PiecesConnectionError, PiecesError
from .models import (
    CANCELED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NO_REASON,
    TERMINAL_STATUSES,
    DownloadProgress,
    Model,
)

log = logging.getLogger("pieces_widget.progress")
MAX_SOCKET_FAILURES = 3  # failed connects in a row before polling instead
IDLE_GRACE = 1.5  # s a model must look idle (neither downloading nor downloaded) to call it ended


class ModelSource(Protocol):
    """What the stream needs of a client (``PiecesClient`` is one)."""

    timeout: tuple[float, float]

    def ws_url(self, path: str) -> str: ...

    def model_path(self, model_id: str, action: str = "") -> str: ...

    def model(self, model_id: str) -> Model: ...


class ProgressTracker:
    """What the frames of one download add up to; never backwards, nothing after the end."""

    def __init__(self) -> None:
        self.last: DownloadProgress | None = None
        self.final: DownloadProgress | None = None

    @property
    def percentage(self) -> float | None:
        return self.last.percentage if self.last else None

    def parse(self, text: str | bytes) -> DownloadProgress | None:
        try:
            return DownloadProgress.from_json(text)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("ignoring a malformed progress frame %.80r: %s", text, exc)
            return None

    def accept(self, progress: DownloadProgress) -> DownloadProgress | None:
        """The progress to report, or None when the frame must be ignored; a FAILED always
        carries a reason."""
        if self.final is not None:
            return None
        percentage = progress.percentage
        before = self.percentage
        if percentage is None or (before is not None and percentage < before):
            percentage = before
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
    """A thread forwarding one model's download progress to ``on_progress`` until it ends."""

    def __init__(
        self,
        client: ModelSource,
        model_id: str,
        on_progress: Callable[[DownloadProgress], None],
        *,
        canceled: Callable[[], bool] = lambda: False,
        silence: float = 3.0,
        poll_interval: float = 1.0,
        backoff: tuple[float, float] = (0.1, 4.0),
        resume: Callable[[Model], str | None] | None = None,
    ) -> None:
        """``resume(model)`` asks the server to download a model it lost again: None when it
        asked (or will ask later), else why it cannot, which ends the stream FAILED."""
        self.client = client
        self.model_id = model_id
        self.tracker = ProgressTracker()
        self._on_progress = on_progress
        self._canceled = canceled
        self._silence = silence
        self._poll_interval = poll_interval
        self._backoff = backoff
        self._stop = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self._idle_since: float | None = None
        self._resume = resume
        self._lost = False  # the server went away (or the socket broke) since it last downloaded
        self._reachable = True  # the last GET /model/{id} got an answer
        self.mode = "websocket"  # or "polling"
        self._thread = threading.Thread(
            target=self._run, name=f"pieces-progress:{model_id[:40]}", daemon=True
        )

    # -- control -----------------------------------------------------------------------------
    def start(self) -> ProgressStream:
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Close the socket and end the thread (within ``timeout``)."""
        self._stop.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):  # half-open or gone: it is going away anyway
                ws.shutdown()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return self.tracker.final is not None

    def _emit(self, progress: DownloadProgress) -> None:
        accepted = self.tracker.accept(progress)
        if accepted is not None:
            try:
                self._on_progress(accepted)
            except Exception:
                log.exception("progress callback failed")

    def _finish(self, status: str, error: str | None = None) -> None:
        self._emit(DownloadProgress(status, self.tracker.percentage, error=error))

    def _wait(self, seconds: float) -> bool:
        """Sleep unless stopped; True when stopped."""
        return self._stop.wait(seconds)

    # -- the thread --------------------------------------------------------------------------
    def _run(self) -> None:
        delay = self._backoff[0]
        failures = 0  # connections in a row that failed before any frame
        try:
            while not self._stop.is_set() and not self.finished:
                outcome = self._session()
                if outcome == "frames":
                    delay, failures = self._backoff[0], 0
                elif outcome == "error" and self._reachable:
                    failures += 1  # the server answers but its socket fails: polling may work
                if self._stop.is_set() or self.finished:
                    break
                if outcome in ("refused", "silent") or failures >= MAX_SOCKET_FAILURES:
                    self._poll_until_done()
                    break
                if self._wait(delay):
                    break
                delay = min(delay * 2, self._backoff[1])
        except Exception:  # never let the thread die silently
            log.exception("progress stream for %r crashed", self.model_id)
            self._finish(FAILED, "the progress stream stopped unexpectedly")

    def _session(self) -> str:
        """One connection: 'frames' (saw some), 'closed', 'error', 'refused', 'silent'."""
        ws = websocket.WebSocket(enable_multithread=True)
        self._ws = ws
        try:
            ws.settimeout(self.client.timeout[1])  # the handshake is a request: read timeout
            url = self.client.ws_url(self.client.model_path(self.model_id, "download/progress"))
            ws.connect(url, suppress_origin=True)
        except websocket.WebSocketBadStatusException as exc:
            if exc.status_code == 410:
                self._finish(FAILED, str(ModelNotFoundError(self.model_id)))
            return "refused"
        except (OSError, websocket.WebSocketException, PiecesError) as exc:
            log.info("progress socket for %r: %s", self.model_id, exc)
            self._reconcile()
            return "error"
        try:
            if self._reconcile():
                return "frames"
            return self._read(ws)
        finally:
            self._ws = None
            ws.close(timeout=0.2)

    def _read(self, ws: websocket.WebSocket) -> str:
        ws.settimeout(0.25)
        saw_frame = False
        last_heard = time.monotonic()
        superseded: str | bytes | None = None  # a frame with a newer one already waiting
        while not self._stop.is_set() and not self.finished:
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                # An idle model is looked at again after the grace, a downloading one after a
                # silence: poll if it is still downloading.
                quiet = IDLE_GRACE if self._idle_since is not None else self._silence
                if time.monotonic() - last_heard > quiet:
                    return "frames" if self._reconcile() else "silent"
                continue
            except (OSError, websocket.WebSocketException):
                self._lost = True  # broken without a close: the server may have died
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            last_heard = time.monotonic()
            if opcode != websocket.ABNF.OPCODE_TEXT:
                log.warning("ignoring a non-text progress frame (opcode %s)", opcode)
                data = None
            elif not _names_terminal(data) and _more_waiting(ws):
                superseded = data  # each frame is a whole state: only the newest matters
                continue
            for text in (superseded, data):
                if text is not None:
                    saw_frame = self._handle(text) or saw_frame
            superseded = None
        if superseded is not None:
            saw_frame = self._handle(superseded) or saw_frame
        if not self.finished and not self._stop.is_set():
            self._reconcile()  # the socket dropped or closed early: what does the model say?
        return "frames" if saw_frame else "closed"

    def _handle(self, text: str | bytes) -> bool:
        progress = self.tracker.parse(text)
        if progress is None:
            return False
        self._lost = False  # the server is streaming its download
        self._emit(progress)
        return True

    def _reconcile(self) -> bool:
        """Ask ``GET /model/{id}``; True when that shows the download has ended."""
        try:
            model = self.client.model(self.model_id)
        except ModelNotFoundError as exc:
            self._finish(FAILED, str(exc))
            return True
        except PiecesError as exc:
            log.info("reconcile of %r failed: %s", self.model_id, exc)
            if isinstance(exc, PiecesConnectionError):
                self._lost, self._reachable = True, False
            return False
        self._reachable = True
        if model.downloaded and not model.downloading:
            self._finish(COMPLETED)
            return True
        if model.downloading:
            self._idle_since, self._lost = None, False
            return False
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
            return False
        if now - self._idle_since < IDLE_GRACE:
            return False
        return self._ended_idle(model)

    def _ended_idle(self, model: Model) -> bool:
        """The model stays idle: canceled, failed, or lost by a server that went away (then
        ``resume`` asks again); False when the download goes on."""
        if self._canceled():
            self._finish(CANCELED)
        elif model.error:
            self._finish(FAILED, model.error)
        elif self._lost and self._resume is not None:
            why_not = self._resume(model)
            if why_not is None:
                self._lost, self._idle_since = False, None
                return False
            self._finish(FAILED, why_not)
        else:
            kept = partial_kept(model, self.tracker.percentage)
            self._finish(FAILED, f"Pieces OS stopped the download without saying why; {kept}")
        return True

    def _poll_until_done(self) -> None:
        self.mode = "polling"
        log.info("progress of %r: polling GET /model about once a second", self.model_id)
        while not self._stop.is_set() and not self.finished:
            if self._reconcile():
                return
            if self.tracker.last is None or self.tracker.last.status != IN_PROGRESS:
                self._emit(DownloadProgress(IN_PROGRESS, self.tracker.percentage))
            if self._wait(self._poll_interval):
                return


def partial_kept(model: Model, percentage: float | None) -> str:
    """What is left of a download that ended early, and what to do: "46 % is kept, ..."."""
    partial, total = model.raw.get("partialBytes"), model.bytes  # the reference server's
    if isinstance(partial, int) and partial > 0 and total:
        kept = min(99, partial * 100 // total)
        return f"{kept} % is kept, downloading it again resumes from there."
    at = "" if percentage is None else f" (it stopped at {percentage:.0f} %)"
    return f"download it again to continue{at}."


def _names_terminal(data: str | bytes) -> bool:
    """Cheap check that a frame may carry a terminal status (such frames are never skipped)."""
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return any(status in text for status in TERMINAL_STATUSES)


def _more_waiting(ws: websocket.WebSocket) -> bool:
    """True when the socket already holds more bytes (a newer frame) to read."""
    sock = ws.sock
    if sock is None:
        return False
    pending = getattr(sock, "pending", None)  # TLS buffers what select cannot see
    if pending is not None and pending():
        return True
    return bool(select.select([sock], [], [], 0)[0])


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
