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
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.errors import PiecesConnectionError, PiecesError
from ..core.jobs import DownloadJob
from ..core.models import COMPLETED
from .output import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_UNREACHABLE, Output, clean
from .pull_views import BarView, LineView, QuietView, percent

if TYPE_CHECKING:
    from ..core.client import PiecesClient
    from ..core.models import Model

REFRESH = 0.1  # s between redraws (tqdm's own default is about the same)
CANCEL_WAIT = 5.0  # s to wait for the server to confirm a cancel after Ctrl-C
RESUME_HINT = "run `pieces-models pull` again to continue"  # Pieces OS may start over


class ServerGone(Exception):
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
