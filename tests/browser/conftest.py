from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serverproc import MiB, ServerProcess

from pieces_widget.server.catalog import DEMO_CATALOG

# The demo's hub throttled so the smallest model takes ~3 s: the bar has time to move.
HUB_RATE = 12 * MiB


@pytest.fixture
def demo_catalog() -> list[dict[str, Any]]:
    return json.loads(DEMO_CATALOG.read_text())


@pytest.fixture
def demo_catalog_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """The real reference server with the demo catalog, as `make demo` runs it."""
    with ServerProcess(tmp_path / "data", DEMO_CATALOG, hub_rate=HUB_RATE) as server:
        yield server
