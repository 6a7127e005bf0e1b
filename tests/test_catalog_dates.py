"""A catalog model's ``created`` date is the catalog file's, not the server's start time, so the
Details panel shows the same date after every restart."""

from __future__ import annotations

import json
import os
from pathlib import Path

from serverproc import ServerProcess

from pieces_widget import PiecesClient

WRITTEN = 1714564800  # 2024-05-01T12:00:00Z, the catalog file's modification time


def created_dates(data_dir: Path, catalog: Path) -> dict[str, object]:
    with ServerProcess(data_dir, catalog) as server:
        return {m.id: m.raw["created"] for m in PiecesClient(server.url).models()}


def test_created_stays_put_across_restarts(tmp_path: Path, catalog_path: Path) -> None:
    models = json.loads(catalog_path.read_text())
    models[0]["created"] = {"value": "2023-01-02T03:04:05+00:00"}  # a date given is kept
    catalog_path.write_text(json.dumps(models))
    os.utime(catalog_path, (WRITTEN, WRITTEN))
    first = created_dates(tmp_path / "data", catalog_path)
    again = created_dates(tmp_path / "data", catalog_path)
    assert first == again
    assert first["small"] == {"value": "2023-01-02T03:04:05+00:00"}
    assert first["medium"] == first["cloudy"] == {"value": "2024-05-01T12:00:00+00:00"}
