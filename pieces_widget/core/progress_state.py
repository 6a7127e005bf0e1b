"""What one download's progress adds up to: frames and model snapshots in, the progress to
relay and the download's end out (no socket, no thread)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from .capped_ws import MAX_FRAME_BYTES
from .models import (
    CANCELED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NO_REASON,
    RESET,
    DownloadProgress,
    Model,
)

log = logging.getLogger("pieces_widget.progress")


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


class ProgressState:
    """One download's progress, relayed to ``on_progress`` until it ends.

    ``on_life()`` is called the first time the server shows the download running (a percentage,
    IN-PROGRESS, or ``downloading: true``); ``stale_error`` is the model's ``error`` from before
    this download was asked for, which says nothing about this one. ``resume(model)`` asks the
    server to download a model it lost again: None when it asked (or will ask later), else why
    it cannot, which ends the download FAILED.
    """

    def __init__(
        self,
        on_progress: Callable[[DownloadProgress], None],
        *,
        canceled: Callable[[], bool] = lambda: False,
        resume: Callable[[Model], str | None] | None = None,
        on_life: Callable[[], None] = lambda: None,
        stale_error: str | None = None,
        idle_grace: float = 3.0,
    ) -> None:
        self.tracker = ProgressTracker()
        self.idle_grace = idle_grace  # a model that was downloading must look idle this long
        self._on_progress = on_progress
        self._canceled = canceled
        self._resume = resume
        self._on_life = on_life
        self._stale_error = stale_error
        self.alive_seen = False  # the server has shown this download running
        self._idle_since: float | None = None
        self.lost = False  # the server went away (or the socket broke) since it last downloaded

    @property
    def finished(self) -> bool:
        return self.tracker.final is not None

    def emit(self, progress: DownloadProgress) -> None:
        if progress.percentage is not None or progress.status in (IN_PROGRESS, RESET):
            self.saw_life()
        accepted = self.tracker.accept(progress)
        if accepted is not None:
            try:
                self._on_progress(accepted)
            except Exception:
                log.exception("progress callback failed")

    def frame(self, text: str | bytes) -> bool:
        """Take one frame's text; False when it was no progress frame."""
        progress = self.tracker.parse(text)
        if progress is None:
            return False
        self.emit(progress)
        return True

    def saw_life(self) -> None:
        self.lost, self._idle_since = False, None
        if not self.alive_seen:
            self.alive_seen = True
            self._on_life()

    def finish(self, status: str, error: str | None = None) -> None:
        self.emit(DownloadProgress(status, self.tracker.percentage, error=error))

    def observe(self, model: Model) -> None:
        """Take ``GET /model/{id}``'s answer; ends the download when the model shows it ended."""
        if model.downloading:
            self.saw_life()
            return
        if model.downloaded:
            self.finish(COMPLETED)
            return
        if model.error and model.error != self._stale_error:
            self.finish(FAILED, model.error)
            return
        # Idle: not started yet (Pieces OS can take a while), or ended, or lost by a restart.
        if not (self.alive_seen or self.lost or self._canceled()):
            return  # still starting: only the job's patience clock runs
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if self._canceled() or now - self._idle_since >= self.idle_grace:
            self._ended_idle(model)

    def _ended_idle(self, model: Model) -> None:
        """The model stays idle: canceled, lost by a server that went away (``resume`` asks
        again), or stopped without a word."""
        if self._canceled():
            self.finish(CANCELED)
        elif self.lost and self._resume is not None:
            why_not = self._resume(model)
            if why_not is None:
                self.lost, self._idle_since = False, None
            else:
                self.finish(FAILED, why_not)
        else:
            kept = partial_kept(model)
            self.finish(FAILED, f"Pieces OS stopped the download without saying why; {kept}")


def partial_kept(model: Model) -> str:
    """What is left of a download that ended early, in words: a resume is promised only where
    the server reports ``partialBytes`` (Pieces OS may restart a download from zero)."""
    partial, total = model.partial_bytes, model.bytes
    if partial and total:
        kept = min(99, partial * 100 // total)
        return f"{kept} % is kept, downloading it again resumes from there."
    return "download it again to start over."
