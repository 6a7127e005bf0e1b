"""The jobs, the widget's Python side and the CLI against a server that behaves as Pieces OS's own
clients and issue tracker say the real one does (the reference server's habit options): a start
seconds after the POST, frames seconds apart, no snapshot, a socket left open, RESET, UNKNOWN, a
cancel that discards the partial, no Ollama. Each would fail on a client built only for our
server: a job FAILED while the download goes on, a frozen bar, a promised resume."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serverproc import MiB, ServerProcess, local_model, server_starter
from waiting import wait_for

from pieces_widget import DownloadJob, ModelManager, PiecesClient
from pieces_widget.core.stream_timing import StreamTiming

CATALOG = [
    local_model("m", 6 * MiB, name="Model M"),
    {"id": "c", "name": "Cloud C", "cloud": True},
]
QUICK = StreamTiming(reconcile_every=0.5, idle_grace=1.0, poll_every=0.3, backoff=(0.1, 0.5))


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    yield from server_starter(tmp_path, CATALOG, hub_rate=2 * MiB)


class Seen:
    """Every (time, status, percentage) a job reported."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.updates: list[tuple[float, str, float | None]] = []
        self.lock = threading.Lock()

    def __call__(self, job: DownloadJob) -> None:
        with self.lock:
            row = (round(time.monotonic() - self.began, 2), job.status, job.percentage)
            if not self.updates or self.updates[-1][1:] != row[1:]:
                self.updates.append(row)

    def statuses(self) -> list[str]:
        return [s for _, s, _ in self.updates]

    def percentages(self) -> list[float]:
        return [p for _, _, p in self.updates if p is not None]


def test_a_slow_start_with_sparse_frames_completes_and_every_frame_moves_the_bar(
    start: Callable[..., ServerProcess],
) -> None:
    """Pieces OS's habits at once: a start 2 s after the POST, a frame every 1.5 s, no snapshot,
    the socket left open after the end. The job waits as Starting, never fails, follows every
    frame on one socket, and ends COMPLETED."""
    server = start(
        "--start-delay", "2", "--frame-interval", "1.5", "--no-snapshot", "--keep-socket-open"
    )  # fmt: skip
    seen = Seen()
    job = DownloadJob(PiecesClient(server.url), "m", on_update=seen, timing=QUICK)
    assert job.wait(30) == "COMPLETED", (job.error, seen.updates)
    assert seen.updates[0][1] == "INITIALIZED"
    running = next(t for t, s, _ in seen.updates if s != "INITIALIZED")
    assert running >= 1.5, seen.updates  # waited as Starting (not failed) until it began
    assert "FAILED" not in seen.statuses()
    percents = seen.percentages()
    assert len(set(percents)) >= 3 and percents == sorted(percents), seen.updates
    assert job._stream is not None and job._stream.mode == "websocket"
    job.stop()


def test_reset_moves_the_job_back_and_it_still_completes(
    start: Callable[..., ServerProcess],
) -> None:
    server = start("--reset-at", "40", "--frame-interval", "0.2")
    seen = Seen()
    job = DownloadJob(PiecesClient(server.url), "m", on_update=seen, timing=QUICK)
    assert job.wait(30) == "COMPLETED", job.error
    statuses, percents = seen.statuses(), seen.percentages()
    assert "RESET" in statuses, seen.updates
    at_reset = statuses.index("RESET")
    before = max(p for _, _, p in seen.updates[:at_reset] if p is not None)
    after = [p for _, _, p in seen.updates[at_reset + 1 :] if p is not None]
    assert before >= 30 and min(after) < before, seen.updates  # the bar followed it down
    assert percents[-1] == 100
    job.stop()


def test_unknown_frames_neither_end_nor_fail_a_job(start: Callable[..., ServerProcess]) -> None:
    server = start("--unknown-every", "0.4", "--frame-interval", "0.2")
    seen = Seen()
    job = DownloadJob(PiecesClient(server.url), "m", on_update=seen, timing=QUICK)
    assert job.wait(30) == "COMPLETED", job.error
    assert "UNKNOWN" in seen.statuses() and "FAILED" not in seen.statuses()
    job.stop()


def test_a_cancel_that_discards_promises_no_resume(start: Callable[..., ServerProcess]) -> None:
    server = start("--cancel-discards")
    client = PiecesClient(server.url)
    job = DownloadJob(client, "m", timing=QUICK)
    wait_for(lambda: (job.percentage or 0) >= 10, timeout=20, message="10 % downloaded")
    job.cancel()
    assert job.wait(10) == "CANCELED"
    model = client.snapshot("m")
    assert model.partial_bytes is None and not model.downloading
    cli = subprocess.run(
        [sys.executable, "-m", "pieces_widget", "cancel", "m", "--url", server.url],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert "resumes" not in cli.stdout
    job.stop()


def test_the_widget_says_ollama_is_missing_installs_it_and_then_downloads(
    start: Callable[..., ServerProcess],
) -> None:
    """--without-ollama: the runtime reads missing, a local download is refused with a reason
    naming Ollama (the job FAILED, the manager alive), install_runtime() runs a real install to
    COMPLETED, the runtime reads installed and the same download completes."""
    server = start("--without-ollama", hub_rate=8 * MiB)
    mgr = ModelManager(base_url=server.url, watch_interval=None)
    try:
        assert mgr.runtime["state"] == "missing"
        assert "Ollama" in mgr.runtime["message"]
        refused = mgr.download("m")
        assert refused.wait(15) == "FAILED" and "Ollama" in (refused.error or "")
        install = mgr.install_runtime()
        assert install.wait(30) == "COMPLETED", install.error
        wait_for(lambda: mgr.runtime["state"] == "installed", timeout=10, message="installed")
        assert mgr.runtime["version"]
        assert mgr.download("m").wait(30) == "COMPLETED"
    finally:
        mgr.close()


def test_the_cli_against_pieces_os_habits(start: Callable[..., ServerProcess]) -> None:
    """status names the missing runtime, install-ollama installs it, pull completes through a
    slow start and sparse frames (no terminal: a line per change)."""
    server = start("--pieces-os-habits", "--start-delay", "1", "--without-ollama")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pieces_widget", *args, "--url", server.url]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)

    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert "not installed" in status.stdout and "install-ollama" in status.stdout
    assert "Connected" not in status.stdout  # the server looks like Pieces OS: no capability
    installed = cli("install-ollama")
    assert installed.returncode == 0, installed.stderr
    assert "installed: local models can run" in installed.stdout
    pulled = cli("pull", "m")
    assert pulled.returncode == 0, (pulled.stdout, pulled.stderr)
    assert "m: starting" in pulled.stdout and "downloaded" in pulled.stdout


def test_delete_on_a_canceled_model_throws_its_partial_away(
    start: Callable[..., ServerProcess],
) -> None:
    """Where the server keeps a partial (and says so), mgr.delete(id) frees it."""
    server = start()
    mgr = ModelManager(base_url=server.url, watch_interval=None)
    try:
        job = mgr.download("m")
        wait_for(lambda: (job.percentage or 0) >= 10, timeout=20, message="10 % downloaded")
        mgr.cancel("m").result(10)
        assert job.wait(10) == "CANCELED"
        assert (mgr.client.snapshot("m").partial_bytes or 0) > 0
        after = mgr.delete("m").result(10)
        assert after.partial_bytes is None and not after.downloaded
    finally:
        mgr.close()
