"""DownloadJob: one model's download as seen from Python, never blocking the caller.

The Model API reports only a percentage, so bytes come from ``percentage x Model.bytes``; speed
is measured over a ~10 s window fed by a timer (not only by frames), so when bytes stop
arriving the speed decays to 0 and the job reads "stalled" instead of freezing at a stale rate.

A job is "starting" (INITIALIZED) until the server shows the download running: Pieces OS
answers the request at once and may start the transfer seconds later, so not downloading yet is
never an end; after ``start_patience`` seconds with no sign of life the job says so
(``slow_start``) and keeps waiting. A RESET starts the figures over.

A job survives Pieces OS restarting under it: when the server comes back without the download,
the job asks for it again (at most ``max_resumes`` times); the server resumes where it kept a
partial file, else starts over. A cancel or a failure the server reported stays final.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import ModelNotFoundError, PiecesConnectionError, PiecesError
from .models import (
    CANCELED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    INITIALIZED,
    RESET,
    DownloadProgress,
    Model,
    check_id,
    readable_bytes,
)
from .progress import ProgressStream, StreamTiming, partial_kept

if TYPE_CHECKING:
    from .client import PiecesClient

log = logging.getLogger("pieces_widget.jobs")

# How a quiet download reads (the widget and the CLI draw these, they never re-derive them):
ETA_UNKNOWN_AFTER = 5.0  # s without new bytes before the ETA reads unknown ("—")
STALL_AFTER = 10.0  # s without new bytes before a download reads "stalled for N s"
MAX_RESUMES = 3  # times a job asks again for a download a restarted server lost
START_PATIENCE = 60.0  # s without a sign of life before a starting download says it waits


class RateWindow:
    """Bytes per second over the last ``span`` seconds of (time, bytes) samples."""

    def __init__(self, span: float = 10.0) -> None:
        self.span = span
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> None:
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.span:
            self._samples.popleft()

    def speed(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return max(0.0, (b1 - b0) / (t1 - t0)) if t1 > t0 else None


class DownloadJob:
    """Start (or attach to) the download of ``model_id``; returns at once.

    ``on_update(job)`` is called from background threads on every change and timer tick.
    ``max_resumes``: downloads asked for again after Pieces OS restarted and lost this one;
    ``backoff``: the progress socket's reconnect delays (first, longest) while it is away;
    ``timing``: all of the stream's clocks (``StreamTiming``), for tests;
    ``start_patience``: seconds without a sign of life before ``slow_start`` turns True.
    """

    TICK = 0.5  # s between timer samples

    def __init__(
        self,
        client: PiecesClient,
        model_id: str,
        *,
        on_update: Callable[[DownloadJob], None] | None = None,
        attach_only: bool = False,
        window: float = 10.0,
        stall_after: float | None = None,
        max_resumes: int = MAX_RESUMES,
        backoff: tuple[float, float] = (0.1, 4.0),
        timing: StreamTiming | None = None,
        start_patience: float = START_PATIENCE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.model_id = check_id(model_id)
        self.status = INITIALIZED
        self.percentage: float | None = None
        self.bytes_total: int | None = None
        self.error: str | None = None
        self.cancel_requested = False
        self.found_nothing = False  # an attach-only job that found no download in flight
        self.unknown = False  # the server does not know the model (HTTP 410)
        self.checked = threading.Event()  # set once the server answered about the model
        self._on_update = on_update
        self._attach_only = attach_only
        self._max_resumes = max_resumes
        self._timing = timing or StreamTiming(backoff=backoff)
        self._start_patience = start_patience
        self.started = False  # the server has shown the download running
        self.resumes = 0  # downloads asked for again after the server lost one
        self._clock = clock
        self._stall_after = STALL_AFTER if stall_after is None else stall_after
        self._eta_unknown_after = min(ETA_UNKNOWN_AFTER, self._stall_after)
        self._rate = RateWindow(window)
        self._last_progress_at = self._requested_at = clock()
        self._relayed_at = 0.0  # time.monotonic() of the last frame reported
        self._lock = threading.Lock()
        self._starting = threading.Lock()  # orders the download request and a cancel
        self._done = threading.Event()
        self._halt = threading.Event()
        self._stream: ProgressStream | None = None
        self._stale_error: str | None = None  # the model's error from before this download
        self._thread = threading.Thread(
            target=self._run, name=f"pieces-job:{model_id[:40]}", daemon=True
        )
        self._thread.start()

    # -- derived figures ---------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def attach_only(self) -> bool:
        """True for a job that only follows a download started elsewhere."""
        return self._attach_only

    @property
    def bytes_done(self) -> int | None:
        if self.bytes_total is None or self.percentage is None:
            return None
        return round(self.bytes_total * self.percentage / 100)

    @property
    def speed(self) -> float | None:
        return None if self.done else self._rate.speed()

    @property
    def idle_for(self) -> float:
        """Seconds since the last new bytes (0 once done, and while not started yet)."""
        if self.done or not self.started:
            return 0.0
        return self._clock() - self._last_progress_at

    @property
    def waiting_for(self) -> float:
        """Seconds since the download was asked for while the server has not started it."""
        return 0.0 if self.done or self.started else self._clock() - self._requested_at

    @property
    def slow_start(self) -> bool:
        """True once the server has given no sign of life for ``start_patience`` seconds."""
        return self.waiting_for >= self._start_patience

    @property
    def eta(self) -> float | None:
        """Seconds left at the current speed; None when unknown or no bytes came for a while."""
        speed, done = self.speed, self.bytes_done
        if self.idle_for >= self._eta_unknown_after:
            return None
        if not speed or done is None or self.bytes_total is None:
            return None
        return max(0.0, (self.bytes_total - done) / speed)

    @property
    def stalled(self) -> bool:
        return self.idle_for >= self._stall_after

    @property
    def stalled_for(self) -> float:
        return self.idle_for if self.stalled else 0.0

    # -- control -----------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> str:
        """The final status; ``TimeoutError`` when ``timeout`` seconds pass first."""
        if not self._done.wait(timeout):
            raise TimeoutError(
                f"download of {self.model_id!r} still {self.status} after {timeout} s"
            )
        return self.status

    def cancel(self) -> None:
        """Ask the server to stop; the status becomes CANCELED when it has. A cancel that comes
        before the job has asked for the download means it is never asked for."""
        if self.done:
            return
        with self._starting:  # a download request in flight lands first, then the cancel
            self.cancel_requested = True
        try:
            self.client.cancel_download(self.model_id)
        except PiecesError as exc:
            self._set_error(str(exc))

    def stop(self, timeout: float = 1.0) -> None:
        """Stop watching (the download itself goes on in the server); a request in flight is
        cut, so this returns at once even while Pieces OS hangs."""
        self._halt.set()
        self.client.interrupt([self._thread])
        if self._stream is not None:
            self._stream.stop(timeout)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- background --------------------------------------------------------------------------
    def _notify(self) -> None:
        if self._on_update is not None:
            try:
                self._on_update(self)
            except Exception:
                log.exception("on_update callback failed")

    def _set_error(self, message: str) -> None:
        self.error = message
        self._notify()

    def _start(self) -> Model | None:
        """Download, or attach to the download in flight; None when nothing is left to watch."""
        try:
            model = self.client.model(self.model_id)
        except ModelNotFoundError:
            self.unknown = True
            raise
        finally:
            self.checked.set()
        self.bytes_total = model.bytes
        self._stale_error = model.error
        if model.downloaded and not model.downloading:
            self._end(COMPLETED, 100.0)
            return None
        if not model.downloading:
            if self._attach_only:  # it ended between the list and now: say how, if we know
                self.found_nothing = model.error is None
                self._end(FAILED if model.error else CANCELED, None, model.error)
                return None
            with self._starting:
                if self.cancel_requested:
                    self._end(CANCELED, None)
                    return None
                model = self.client.download(self.model_id)
                self._requested_at = self._clock()
            self.bytes_total = model.bytes or self.bytes_total
            self._stale_error = model.error
        return model

    def _resume(self, model: Model) -> str | None:
        """The server came back without this download: ask for it again (None), or say why
        not. A cancel meanwhile is not undone: the stream then ends CANCELED."""
        kept = partial_kept(model)
        if self.resumes >= self._max_resumes:
            times = "" if self.resumes == 0 else f" {self.resumes + 1} times"
            return f"Pieces OS restarted during the download{times}; {kept}"
        with self._starting:
            if self.cancel_requested:
                return None
            try:
                self.client.download(self.model_id)
            except PiecesConnectionError:
                return None  # gone again: the stream asks once it is back
            except PiecesError as exc:
                refused = f"Pieces OS restarted during the download, then refused it ({exc})"
                return f"{refused}; {kept}"
            self.resumes += 1
            self._last_progress_at = self._clock()  # the time it was away is not a stall
        log.info("resumed the download of %r after Pieces OS restarted", self.model_id)
        return None

    def _end(self, status: str, percentage: float | None, error: str | None = None) -> None:
        with self._lock:
            if self.done:
                return
            self.status, self.error = status, error
            if percentage is not None:
                self.percentage = percentage
            self._done.set()
        self._notify()

    def _on_life(self) -> None:
        """The server shows the download running: it has started."""
        with self._lock:
            if self.done or self.started:
                return
            self.started = True
            self._last_progress_at = self._clock()
            if self.status == INITIALIZED:
                self.status = IN_PROGRESS
        self._notify()

    def _on_progress(self, progress: DownloadProgress) -> None:
        now = self._clock()
        with self._lock:
            if self.done:
                return
            if progress.status == RESET:  # the download starts over: so do its figures
                self._rate = RateWindow(self._rate.span)
                self._last_progress_at = now
            if progress.percentage is not None and progress.percentage != self.percentage:
                self._last_progress_at = now
                self.percentage = progress.percentage
            self.status = progress.status
            self._sample(now)
            self._relayed_at = time.monotonic()  # real time, as the tick's (not ``clock``)
        if progress.terminal:
            self._end(progress.status, progress.percentage, progress.error)
        else:
            self._notify()

    def _sample(self, now: float) -> None:
        done = self.bytes_done
        if done is not None:
            self._rate.add(now, done)

    def _run(self) -> None:
        try:
            self._follow()
        except PiecesError as exc:
            self._end(FAILED, None, str(exc))
        except Exception as exc:  # a job never dies silently: it ends FAILED, with the reason
            log.exception("download job for %r crashed", self.model_id)
            self._end(FAILED, None, f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            if self._stream is not None:
                self._stream.stop()

    def _follow(self) -> None:
        if self._start() is None:
            return
        self._notify()
        self._stream = ProgressStream(
            self.client,
            self.model_id,
            self._on_progress,
            canceled=lambda: self.cancel_requested,
            resume=self._resume,
            on_life=self._on_life,
            stale_error=self._stale_error,
            timing=self._timing,
        ).start()
        while not self.done and not self._halt.wait(self.TICK):
            if time.monotonic() - self._relayed_at < self.TICK:
                continue  # a frame was just reported: it moved the figures itself
            with self._lock:
                self._sample(self._clock())
            self._notify()  # a tick moves speed, ETA and "stalled" even without frames

    def __repr__(self) -> str:
        total = "size unknown" if self.bytes_total is None else readable_bytes(self.bytes_total)
        done = "" if self.percentage is None else f"{self.percentage:.1f} % of "
        error = f": {self.error}" if self.error else ""
        return f"<DownloadJob {self.model_id!r} {self.status}, {done}{total}{error}>"
