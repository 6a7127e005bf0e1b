"""DownloadJob: one model's download followed from Python in a thread, never blocking the
caller (its figures are ``JobState``'s).

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
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import ModelNotFoundError, PiecesConnectionError, PiecesError
from .job_state import START_PATIENCE, JobState
from .models import CANCELED, COMPLETED, FAILED, Model, check_id
from .progress import ProgressStream
from .progress_state import partial_kept
from .stream_timing import StreamTiming

if TYPE_CHECKING:
    from .client import PiecesClient

log = logging.getLogger("pieces_widget.jobs")

MAX_RESUMES = 3  # times a job asks again for a download a restarted server lost


class DownloadJob(JobState):
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
        super().__init__(
            check_id(model_id),
            on_update=on_update,
            window=window,
            stall_after=stall_after,
            start_patience=start_patience,
            clock=clock,
        )
        self.client = client
        self.cancel_requested = False
        self.found_nothing = False  # an attach-only job that found no download in flight
        self.unknown = False  # the server does not know the model (HTTP 410)
        self.checked = threading.Event()  # set once the server answered about the model
        self._attach_only = attach_only
        self._max_resumes = max_resumes
        self._timing = timing or StreamTiming(backoff=backoff)
        self.resumes = 0  # downloads asked for again after the server lost one
        self._starting = threading.Lock()  # orders the download request and a cancel
        self._halt = threading.Event()
        self._stream: ProgressStream | None = None
        self._stale_error: str | None = None  # the model's error from before this download
        self._thread = threading.Thread(
            target=self._run, name=f"pieces-job:{model_id[:40]}", daemon=True
        )
        self._thread.start()

    @property
    def attach_only(self) -> bool:
        """True for a job that only follows a download started elsewhere."""
        return self._attach_only

    # -- control -----------------------------------------------------------------------------
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

    # -- the thread --------------------------------------------------------------------------
    def _start(self) -> Model | None:
        """Download, or attach to the download in flight; None when nothing is left to watch."""
        try:
            model = self.client.snapshot(self.model_id)
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
