from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from faultserver import FaultServer
from serverproc import MiB, ServerProcess, local_model, write_catalog
from waiting import wait_for

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
