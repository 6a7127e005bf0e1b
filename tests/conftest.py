from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from faultserver import FaultServer
from serverproc import MiB, ServerProcess, local_model, write_catalog
from waiting import wait_for

_MADE_HUB_CACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """One directory of generated hub blobs for the session's servers (the xdist workers inherit
    it): each blob is made once and hard-linked into every fresh data directory, instead of made
    again at every server start (the demo catalog's 272 MiB took 3-5 s a start)."""
    # xdist (>= 3.8) hands out the files with the most tests first unless told not to: the long
    # files here have few tests, so they would come last. SLOW_FIRST's order instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    if not os.environ.get("PIECES_HUB_CACHE"):
        _MADE_HUB_CACHE.append(tempfile.mkdtemp(prefix="pieces-hub-cache-"))
        os.environ["PIECES_HUB_CACHE"] = _MADE_HUB_CACHE[0]


def pytest_unconfigure(config: pytest.Config) -> None:
    for path in _MADE_HUB_CACHE:
        shutil.rmtree(path, ignore_errors=True)


# The longest test files (seconds summed, on three workers here), started first: with one file
# to a worker at a time (--dist loadfile), a long file handed out last would run on alone.
SLOW_FIRST = [
    "test_job_restart.py",  # 48
    "test_against_pieces_os_habits.py",  # 41
    "test_widget_live.py",  # 36
    "test_progress_faults.py",  # 36
    "test_cli.py",  # 34
    "test_demo.py",  # 28
    "test_server_transfers.py",  # 23
    "test_server_custom.py",  # 23
    "test_jobs.py",  # 21
    "test_server_habits.py",  # 20
    "test_server_crash.py",  # 19
    "test_server_load.py",  # 18
    "test_widget.py",  # 18
    "test_wheel.py",  # 17
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Whole files in SLOW_FIRST's order, then the rest as collected; a file's own order kept."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


DEMO_LIKE = [
    local_model("small", 4 * MiB, name="Small Model", custom=True, foundation="PHI_2"),
    local_model("medium", 24 * MiB, name="Medium Model", foundation="LLAMA_3_8B"),
    local_model(
        "badsum", 2 * MiB, name="Bad Checksum", source={"sha256": "0" * 64}, foundation="T5"
    ),
    {"id": "cloudy", "name": "Cloud Model", "cloud": True, "foundation": "GPT_4"},
]


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog.json", DEMO_LIKE)


@pytest.fixture
def server(tmp_path: Path, catalog_path: Path) -> Iterator[ServerProcess]:
    """A real reference server; its hub is throttled to 8 MiB/s so downloads take a moment."""
    with ServerProcess(tmp_path / "data", catalog_path, hub_rate=8 * MiB) as proc:
        yield proc


@pytest.fixture
def fast_server(tmp_path: Path, catalog_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", catalog_path, hub_rate=0) as proc:
        yield proc


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    """Every test ends with no pieces-widget thread still running."""
    yield

    def alive() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("pieces-")]

    try:
        wait_for(lambda: not alive(), 3)
    except AssertionError:
        raise AssertionError(f"threads left behind: {alive()}") from None
