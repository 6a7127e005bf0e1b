"""Kernel side: the CPU a widget costs while five downloads run (it only relays frames).

A ModelManager runs in a process of its own (the kernel, without Jupyter: its messages go to
a comm that packs them as Jupyter does), a view open so the health watch runs as on a page.
Its CPU time (all threads) is measured over a window while idle, then over a window while
five downloads run at once against the reference server, which sends up to 10 frames a
second per download (Pieces OS sends one every few seconds: this is the busier case).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import MiB, Row, ServerProcess, local_model, write_catalog

DOWNLOADS = 5
SIZE = 64 * MiB
HUB_RATE = 2 * MiB  # bytes/s per download: each runs ~32 s
WINDOW = 15.0  # s measured, idle and then busy
TARGET = 0.5  # % of a core per download
REPO = Path(__file__).resolve().parent.parent


def child(url: str) -> None:
    """The kernel: prints one JSON line per measured window."""
    from recordingcomm import recording

    from pieces_widget import ModelManager

    with recording():
        mgr = ModelManager(base_url=url)
        mgr._on_view("bench", True)  # a view on the page: the health watch runs
        mgr.refresh().result(30)
        time.sleep(1.0)
        print(json.dumps({"idle": _cpu_over(WINDOW)}), flush=True)
        jobs = [mgr.download(f"dl{i}") for i in range(DOWNLOADS)]
        deadline = time.monotonic() + 30
        while not all(j.started for j in jobs):
            if time.monotonic() > deadline:
                raise RuntimeError(f"downloads did not start: {jobs}")
            time.sleep(0.05)
        busy = _cpu_over(WINDOW)
        running = sum(not j.done for j in jobs)
        percent = [round(j.percentage or 0, 1) for j in jobs]
        print(json.dumps({"busy": busy, "running": running, "percent": percent}), flush=True)
        for job in jobs:
            job.cancel()
        mgr.close()


def _cpu_over(seconds: float) -> float:
    """CPU seconds this process (every thread) used over ``seconds`` of wall time."""
    began = time.process_time()
    time.sleep(seconds)
    return time.process_time() - began


def kernel_cpu(tmp: Path) -> Row:
    models = [local_model(f"dl{i}", SIZE, name=f"Download {i}") for i in range(DOWNLOADS)]
    catalog = write_catalog(tmp / "kernel.json", models)
    with ServerProcess(tmp / "data", catalog, hub_rate=HUB_RATE) as server:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.kernel_bench", server.url],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the kernel process failed:\n{done.stderr[-3000:]}")
    figures: dict[str, object] = {}
    for line in done.stdout.splitlines():
        figures.update(json.loads(line))
    if figures["running"] != DOWNLOADS:
        raise RuntimeError(f"a download ended inside the window: {figures}")
    idle = float(figures["idle"]) / WINDOW * 100  # type: ignore[arg-type]
    busy = float(figures["busy"]) / WINDOW * 100  # type: ignore[arg-type]
    per_download = busy / DOWNLOADS  # the whole process, the idle share included
    over_idle = (busy - idle) / DOWNLOADS
    return Row(
        f"kernel CPU while {DOWNLOADS} downloads run in a widget (% of a core per download;"
        f" up to 10 frames/s each, {WINDOW:g} s)",
        f"{per_download:.3f} % ({busy:.2f} % in all; {over_idle:.3f} % per download over idle)",
        f"the same ModelManager idle {idle:.2f} %",
        busy / idle if idle else float("inf"),
        f"<= {TARGET} % per download",
        per_download <= TARGET,
    )


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        return [kernel_cpu(Path(tmp))]


if __name__ == "__main__":
    child(sys.argv[1])
