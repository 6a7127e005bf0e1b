"""``python -m benchmarks``: its arguments (the suites themselves run under ``make bench``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_the_suites_and_runs_none() -> None:
    done = _bench("--help")
    assert done.returncode == 0, done.stderr
    assert "server_bench" in done.stdout and "cli_bench" in done.stdout
    assert "All benchmarks" not in done.stdout


def test_an_unknown_suite_is_a_one_line_error() -> None:
    done = _bench("nope")
    assert done.returncode == 2
    assert "no such suite: nope" in done.stderr
    assert "Traceback" not in done.stderr
