"""The on-disk model store: where weights live and which metadata edits persist.

Model ids are data, never paths: a model's files are named from a hash of its id, and only ids
in the catalog ever reach this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .catalog import CatalogEntry


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class ModelStore:
    """Files and persisted metadata edits under one data directory."""

    def __init__(self, data_dir: Path, catalog: dict[str, CatalogEntry]) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.catalog = catalog
        self.weights_dir = self.data_dir / "models"
        self.weights_dir.mkdir(parents=True, exist_ok=True)
        self._state_path = self.data_dir / "state.json"
        self.edits: dict[str, dict[str, Any]] = self._read_edits()

    def _read_edits(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self._state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        edits = data.get("edits", {}) if isinstance(data, dict) else {}
        return {k: v for k, v in edits.items() if isinstance(v, dict)}

    def _stem(self, model_id: str) -> str:
        return hashlib.sha256(model_id.encode("utf-8", "surrogatepass")).hexdigest()

    def weights_path(self, model_id: str) -> Path:
        return self.weights_dir / f"{self._stem(model_id)}.bin"

    def part_path(self, model_id: str) -> Path:
        return self.weights_dir / f"{self._stem(model_id)}.part"

    def is_downloaded(self, model_id: str) -> bool:
        source = self.catalog[model_id].source
        if source is None:
            return False
        try:
            return self.weights_path(model_id).stat().st_size == source.bytes
        except FileNotFoundError:
            return False

    def metadata(self, model_id: str) -> dict[str, Any]:
        """The catalog's public JSON with persisted edits merged in (a fresh copy)."""
        model = json.loads(json.dumps(self.catalog[model_id].model))
        model.update(self.edits.get(model_id, {}))
        return model

    def save_edits(self, model_id: str, fields: dict[str, Any]) -> None:
        merged = {**self.edits.get(model_id, {}), **fields}
        edits = {**self.edits, model_id: merged}
        atomic_write_json(self._state_path, {"edits": edits})
        self.edits = edits

    def delete_weights(self, model_id: str) -> None:
        for path in (self.weights_path(model_id), self.part_path(model_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
