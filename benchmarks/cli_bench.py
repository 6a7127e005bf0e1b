"""The command line: ``pieces-models pull`` end to end vs ``curl -o``, and start-up time.

``pieces-models`` is run as the console script pip generates (written to a temp dir, so the
benchmark does not depend on how the package was installed), with this checkout first on
PYTHONPATH. A pull is timed from the process start to its exit: start-up, discovery of the
model, the server's transfer (sha256 + fsync + rename) and the progress stream's end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from .common import MiB, Row, hub_and_server, median_of, rotate
from .server_bench import _wait_downloaded

REPO = Path(__file__).resolve().parent.parent
BLOB = 256 * MiB
PULL_RUNS = 6
START_RUNS = 15
CONSOLE_SCRIPT = f"""#!{sys.executable}
import re
import sys
from pieces_widget.cli import run
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(run())
"""


def console_script(tmp: Path) -> Path:
    path = tmp / "pieces-models"
    path.write_text(CONSOLE_SCRIPT)
    path.chmod(0o755)
    return path


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PIECES_OS_URL", None)
    return env


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, env=_env(), stdout=subprocess.DEVNULL)


def _timed_run(args: list[str]) -> float:
    began = time.perf_counter()
    _run(args)
    return time.perf_counter() - began


def pull_vs_curl(tmp: Path, script: Path, startup_s: float, source_rate: float = 0) -> Row:
    """``source_rate`` (bytes/s) caps the hub both download from; 0 = loopback speed."""
    with hub_and_server(tmp / f"rate-{source_rate:.0f}", BLOB, source_rate) as (server, source):
        out = tmp / "curl.bin"

        def bare_api() -> None:  # the same transfer through the bare API: what the CLI adds
            requests.post(f"{server.url}/model/big/download", timeout=10)
            _wait_downloaded(server.url, "big")

        def clean_up() -> None:
            requests.post(f"{server.url}/models/big/delete/cache", json={}, timeout=10)
            out.unlink(missing_ok=True)
            subprocess.run(["sync"], check=True)  # the previous file's writeback costs no one

        times = rotate(
            {  # a pull exits 0 only once the model is downloaded
                "ours": lambda: _run([str(script), "pull", "big", "-q", "--url", server.url]),
                "curl": lambda: _run(["curl", "-s", "-o", str(out), source["url"]]),
                "api": bare_api,
            },
            PULL_RUNS,
            clean_up,
        )
    ours, curl, api = times["ours"], times["curl"], times["api"]
    ours_rate, curl_rate = BLOB / median_of(ours) / MiB, BLOB / median_of(curl) / MiB
    ratio = ours_rate / curl_rate
    where = f"a {source_rate / MiB:.0f} MiB/s source" if source_rate else "loopback"
    return Row(
        f"pieces-models pull 256 MiB from {where}, process start to exit (MiB/s)",
        f"{ours_rate:.0f} ({median_of(ours) * 1000:.0f} ms, of which start-up "
        f"{startup_s * 1000:.0f} ms)",
        f"curl -o {curl_rate:.0f} ({median_of(curl) * 1000:.0f} ms); the bare API through "
        f"the same server {BLOB / median_of(api) / MiB:.0f} ({median_of(api) * 1000:.0f} ms)",
        ratio,
        ">= 0.85x",
        ratio >= 0.85,
    )


def startup(script: Path) -> tuple[Row, float]:
    """``pieces-models --help`` vs ``python -c "import requests"``, interleaved, medians."""
    ours: list[float] = []
    base: list[float] = []
    for _ in range(START_RUNS):
        ours.append(_timed_run([str(script), "--help"]))
        base.append(_timed_run([sys.executable, "-c", "import requests"]))
    ratio = median_of(ours) / median_of(base)
    row = Row(
        "pieces-models --help start-up (ms, median of 15)",
        f"{median_of(ours) * 1000:.0f}",
        f'python -c "import requests" {median_of(base) * 1000:.0f}',
        ratio,
        "<= 1.5x",
        ratio <= 1.5,
    )
    return row, median_of(ours)


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        script = console_script(Path(tmp))
        started, startup_s = startup(script)
        # At loopback speed (~1 GB/s) the fixed cost of a Python process start, the fsync and the
        # progress stream's end weigh on a 0.3 s transfer; a fast real source shows the steady
        # state a user sees.
        return [
            pull_vs_curl(Path(tmp), script, startup_s),
            pull_vs_curl(Path(tmp), script, startup_s, source_rate=100 * MiB),
            started,
        ]
