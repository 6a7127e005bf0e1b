"""A download's figures and status as Python sees them: bytes from the percentage, speed over a
window fed by a timer, ETA, stall, slow start, the end (no network, no thread of its own).

The Model API reports only a percentage, so bytes come from ``percentage x Model.bytes``; speed
is measured over a ~10 s window fed by a timer (not only by frames), so when bytes stop
arriving the speed decays to 0 and the job reads "stalled" instead of freezing at a stale rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .models import IN_PROGRESS, INITIALIZED, RESET, DownloadProgress, readable_bytes

log = logging.getLogger("pieces_widget.jobs")

# How a quiet download reads (the widget and the CLI draw these, they never re-derive them):
ETA_UNKNOWN_AFTER = 5.0  # s without new bytes before the ETA reads unknown ("—")
STALL_AFTER = 10.0  # s without new bytes before a download reads "stalled for N s"
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


class JobState:
    """One download's status and figures; ``on_update(job)`` is called on every change.

    ``start_patience``: seconds without a sign of life before ``slow_start`` turns True.
    """

    def __init__(
        self,
        model_id: str,
        *,
        on_update: Callable[[Any], None] | None = None,
        window: float = 10.0,
        stall_after: float | None = None,
        start_patience: float = START_PATIENCE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model_id = model_id
        self.status = INITIALIZED
        self.percentage: float | None = None
        self.bytes_total: int | None = None
        self.error: str | None = None
        self.started = False  # the server has shown the download running
        self._on_update = on_update
        self._start_patience = start_patience
        self._clock = clock
        self._stall_after = STALL_AFTER if stall_after is None else stall_after
        self._eta_unknown_after = min(ETA_UNKNOWN_AFTER, self._stall_after)
        self._rate = RateWindow(window)
        self._last_progress_at = self._requested_at = clock()
        self._relayed_at = 0.0  # time.monotonic() of the last frame reported
        self._lock = threading.Lock()
        self._done = threading.Event()

    # -- derived figures ---------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done.is_set()

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

    # -- the end -----------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> str:
        """The final status; ``TimeoutError`` when ``timeout`` seconds pass first."""
        if not self._done.wait(timeout):
            raise TimeoutError(
                f"download of {self.model_id!r} still {self.status} after {timeout} s"
            )
        return self.status

    # -- changes -----------------------------------------------------------------------------
    def _notify(self) -> None:
        if self._on_update is not None:
            try:
                self._on_update(self)
            except Exception:
                log.exception("on_update callback failed")

    def _set_error(self, message: str) -> None:
        self.error = message
        self._notify()

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

    def __repr__(self) -> str:
        total = "size unknown" if self.bytes_total is None else readable_bytes(self.bytes_total)
        done = "" if self.percentage is None else f"{self.percentage:.1f} % of "
        error = f": {self.error}" if self.error else ""
        return f"<{type(self).__name__} {self.model_id!r} {self.status}, {done}{total}{error}>"
