"""How a pull draws its jobs: a tqdm bar per model, a line per status change, or nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tqdm import tqdm

from ..core.models import CANCELED, COMPLETED, FAILED, IN_PROGRESS, INITIALIZED, RESET, UNKNOWN
from .output import Output, clean, size

if TYPE_CHECKING:
    from ..core.jobs import DownloadJob
    from ..core.models import Model

# tqdm puts ", " before a postfix; sizes in decimal units like readable_bytes (B, KB, MB).
BAR_BYTES = "{desc}  {percentage:3.0f}%|{bar}| {n_fmt}{unit}/{total_fmt}{unit}{postfix}"
BAR_PERCENT = "{desc}  {percentage:3.0f}%|{bar}|{postfix}"  # size unknown


# What a running download's other statuses mean to a person (never an end, never a failure).
WORDS = {INITIALIZED: "starting", UNKNOWN: "working", RESET: "starting over"}


def percent(job: DownloadJob) -> str:
    return "?%" if job.percentage is None else f"{job.percentage:.0f}%"


def progress_text(job: DownloadJob) -> str:
    """Speed and ETA from the job's own window, or what stops them (shown after the bar);
    padded so the bar keeps its width as the text changes."""
    return _progress_text(job).ljust(22)


def _progress_text(job: DownloadJob) -> str:

    if job.done:
        return {COMPLETED: "done", FAILED: "failed", CANCELED: "canceled"}.get(
            job.status, job.status.lower()
        )
    if job.stalled:
        return f"stalled for {job.stalled_for:.0f} s"
    if job.slow_start:
        return "waiting for Pieces OS"
    if job.status in WORDS:
        return WORDS[job.status]
    speed, eta = job.speed, job.eta
    if speed is None:
        return "starting"
    eta_text = "-" if eta is None else tqdm.format_interval(eta)
    return f"{size(round(speed))}/s  ETA {eta_text}"


def status_line(job: DownloadJob, elapsed: float) -> str:
    """The line a pull prints when a job's status (or stall) changes and there is no bar."""
    name = clean(job.model_id)
    if job.status == COMPLETED:
        return f"{name}: downloaded {size(job.bytes_total)} in {elapsed:.1f} s"
    if job.status == FAILED:
        return f"{name}: failed: {clean(job.error or 'no reason given')}"
    if job.status == CANCELED:
        return f"{name}: canceled at {percent(job)}"
    if job.stalled:
        return f"{name}: stalled at {percent(job)}, no bytes for {job.stalled_for:.0f} s"
    if job.slow_start:
        waited = f"{job.waiting_for:.0f} s"
        return f"{name}: Pieces OS has not started the download after {waited}; still waiting"
    if job.status == INITIALIZED:
        return f"{name}: starting ({size(job.bytes_total)})"
    if job.status in WORDS:
        return f"{name}: {WORDS[job.status]}, {percent(job)} of {size(job.bytes_total)}"
    if job.status == IN_PROGRESS:
        return f"{name}: downloading, {percent(job)} of {size(job.bytes_total)}"
    return f"{name}: {clean(job.status.lower())}"


class LineView:
    """A line per status change (stdout is not a terminal: logs, CI, pipes)."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.seen: dict[str, tuple[str, bool, bool]] = {}
        self.began = time.monotonic()

    def update(self, jobs: Sequence[DownloadJob]) -> None:
        for job in jobs:
            key = (job.status, job.stalled, job.slow_start)
            if self.seen.get(job.model_id) != key:
                self.seen[job.model_id] = key
                self.out.say(status_line(job, time.monotonic() - self.began))

    def close(self) -> None:
        pass


class BarView:
    """One tqdm bar per model, in bytes when the size is known, else in percent."""

    def __init__(self, models: Sequence[Model], out: Output) -> None:
        self.format_interval = tqdm.format_interval
        self.stdout = out.stdout
        self.ended: set[str] = set()
        width = max(len(clean(m.id)) for m in models)
        self.in_bytes = {m.id: m.bytes is not None for m in models}
        self.bars = {
            m.id: tqdm(
                total=m.bytes if m.bytes is not None else 100,
                unit="B" if m.bytes is not None else "%",
                unit_scale=m.bytes is not None,
                desc=clean(m.id).ljust(width),
                position=i,
                leave=True,
                file=out.stdout,
                bar_format=BAR_BYTES if m.bytes is not None else BAR_PERCENT,
                ncols=self.width(),
                mininterval=0,
            )
            for i, m in enumerate(models)
        }

    def update(self, jobs: Sequence[DownloadJob]) -> None:
        for job in jobs:
            if job.model_id in self.ended:
                continue  # its last frame is drawn
            bar = self.bars[job.model_id]
            bar.ncols = self.width()
            done = job.bytes_done if self.in_bytes[job.model_id] else job.percentage
            if done is not None:
                bar.n = done
            text = progress_text(job)
            if job.done:
                self.ended.add(job.model_id)
                if job.status == COMPLETED:
                    took = self.format_interval(bar.format_dict["elapsed"])
                    text = f"done in {took}"
            bar.set_postfix_str(text, refresh=False)
            bar.refresh()

    def width(self) -> int:
        """The terminal's width (read on each draw: it may be resized) less 2 columns, so the
        ``^C`` a terminal echoes on Ctrl-C does not wrap the line and break the redraw."""
        try:
            columns = os.get_terminal_size(self.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return max(40, columns or 80) - 2

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class QuietView:
    def update(self, jobs: Sequence[DownloadJob]) -> None:
        pass

    def close(self) -> None:
        pass
