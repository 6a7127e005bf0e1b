"""``pull`` and ``ensure``: one DownloadJob per model, drawn as tqdm bars or status lines.

The jobs' threads only set an event; the main thread draws (so tqdm is written from one thread)
and is the one Ctrl-C interrupts: it then cancels every download on the server and waits for
the server to say CANCELED, so the partial files stay ready for the next pull to resume.
A job keeps trying while the server is away (the widget wants that); a pull gives up after
``give_up_after`` seconds of an unreachable server instead of waiting forever.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.models import CANCELED, COMPLETED, FAILED, IN_PROGRESS, INITIALIZED, RESET, UNKNOWN
from .output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    Output,
    clean,
    size,
)

if TYPE_CHECKING:
    from ..core.client import PiecesClient
    from ..core.jobs import DownloadJob
    from ..core.models import Model

REFRESH = 0.1  # s between redraws (tqdm's own default is about the same)
CANCEL_WAIT = 5.0  # s to wait for the server to confirm a cancel after Ctrl-C
# tqdm puts ", " before a postfix; sizes in decimal units like readable_bytes (B, KB, MB).
BAR_BYTES = "{desc}  {percentage:3.0f}%|{bar}| {n_fmt}{unit}/{total_fmt}{unit}{postfix}"
BAR_PERCENT = "{desc}  {percentage:3.0f}%|{bar}|{postfix}"  # size unknown
RESUME_HINT = "run `pieces-models pull` again to continue"  # Pieces OS may start over


# What a running download's other statuses mean to a person (never an end, never a failure).
WORDS = {INITIALIZED: "starting", UNKNOWN: "working", RESET: "starting over"}


class ServerGone(Exception):
    pass


def percent(job: DownloadJob) -> str:
    return "?%" if job.percentage is None else f"{job.percentage:.0f}%"


def progress_text(job: DownloadJob) -> str:
    """Speed and ETA from the job's own window, or what stops them (shown after the bar);
    padded so the bar keeps its width as the text changes."""
    return _progress_text(job).ljust(22)


def _progress_text(job: DownloadJob) -> str:
    from tqdm import tqdm

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
        from tqdm import tqdm

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


class Watchdog:
    """Ends a pull whose server stays unreachable for ``give_up_after`` s."""

    def __init__(self, client: PiecesClient, give_up_after: float) -> None:
        self.client = client
        self.give_up_after = give_up_after
        self._last: tuple[Any, ...] = ()
        self._moved_at = self._checked_at = time.monotonic()
        self._down_since: float | None = None

    def check(self, jobs: Sequence[DownloadJob]) -> None:
        from ..core.errors import PiecesConnectionError

        now = time.monotonic()
        state = tuple((j.status, j.percentage) for j in jobs)
        if state != self._last:
            self._last, self._moved_at, self._down_since = state, now, None
            return
        if now - self._moved_at < 1.0 or now - self._checked_at < 0.5:
            return  # only a quiet pull asks whether the server is still there
        self._checked_at = now
        try:
            self.client.health()
        except PiecesConnectionError:
            self._down_since = self._down_since or now
            if now - self._down_since >= self.give_up_after:
                raise ServerGone(
                    f"Pieces OS at {self.client.base_url} stopped answering during the pull "
                    f"(unreachable for {self.give_up_after:g} s); {RESUME_HINT}"
                ) from None
        else:
            self._down_since = None


def cancel_all(jobs: Sequence[DownloadJob]) -> None:
    """Cancel on the server and wait for CANCELED; repeated, for a job that was still starting."""
    deadline = time.monotonic() + CANCEL_WAIT
    while time.monotonic() < deadline:
        pending = [j for j in jobs if not j.done]
        if not pending:
            return
        for job in pending:
            job.cancel()
        for job in pending:
            with contextlib.suppress(TimeoutError):
                job.wait(timeout=0.5)


def _server_reachable(client: PiecesClient) -> bool:
    from ..core.errors import PiecesConnectionError, PiecesError

    try:
        client.health()
    except PiecesConnectionError:
        return False
    except PiecesError:
        pass
    return True


def pull(
    client: PiecesClient,
    models: Sequence[Model],
    out: Output,
    options: argparse.Namespace,
    *,
    final_json: bool = True,
) -> int:
    """Download ``models`` (already-downloaded ones are skipped); the command's exit code."""
    from ..core.jobs import DownloadJob

    results: dict[str, dict[str, Any]] = {}
    todo = []
    for model in models:
        if model.downloaded and not model.downloading:
            out.say(f"{clean(model.id)}: already downloaded")
            results[model.id] = {"id": model.id, "status": COMPLETED, "already": True}
        else:
            todo.append(model)
    jobs: list[DownloadJob] = []
    code, message = 0, ""
    if todo:
        view = BarView(todo, out) if out.bars else LineView(out) if out.chatty else QuietView()
        ended = threading.Event()
        watchdog = Watchdog(client, options.give_up_after)
        try:
            for model in todo:
                jobs.append(
                    DownloadJob(
                        client,
                        model.id,
                        on_update=lambda j: j.done and ended.set(),
                        stall_after=options.stall_after,
                    )
                )
            while not all(job.done for job in jobs):
                ended.wait(REFRESH)
                ended.clear()
                view.update(jobs)
                watchdog.check(jobs)
        except KeyboardInterrupt:
            cancel_all(jobs)
            code = EXIT_INTERRUPTED
            stopped = ", ".join(f"{clean(j.model_id)} at {percent(j)}" for j in jobs)
            message = f"interrupted: canceled {stopped or 'the pull'}; {RESUME_HINT}"
        except ServerGone as exc:
            code, message = EXIT_UNREACHABLE, str(exc)
        finally:
            for job in jobs:
                job.stop()
            view.update(jobs)
            view.close()
    for job in jobs:
        results[job.model_id] = {
            "id": job.model_id,
            "status": job.status,
            "percentage": job.percentage,
            "bytes_done": job.bytes_done,
            "bytes_total": job.bytes_total,
            "error": job.error,
        }
    if final_json:
        out.data([results[m.id] for m in models])
    if code:
        out.error(message)
        return code
    failed = [j for j in jobs if j.status != COMPLETED]
    for job in failed:
        reason = job.error or f"the download ended {job.status}"
        out.error(f"{clean(job.model_id)}: {clean(reason)}")
    if failed:
        return EXIT_FAILED if _server_reachable(client) else EXIT_UNREACHABLE
    return 0
