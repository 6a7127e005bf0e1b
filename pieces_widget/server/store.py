"""The on-disk model store: where weights live, and the state that persists (``state.json``).

Model ids are data, never paths: a model's files are named from a hash of its id, only ids the
server knows ever reach this module, and files are opened without following symlinks.

``state.json`` holds metadata edits of custom models, models made by ``/models/create`` (with
their source) and the custom catalog models that were deleted; ``statefile.py`` writes it (off
the event loop; atomically; a journal next to it at scale). A file that cannot be read is kept
aside under a new name and the server starts clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from . import resume
from .atomic import atomic_write, regular_size
from .catalog import CatalogEntry, Source
from .custom import created_entry
from .fields import FieldError
from .statecodec import State
from .statefile import StateFile

log = logging.getLogger("pieces_widget.server")


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``path`` whole or not at all; no temporary file is left, whatever fails."""
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True).encode())


class ModelStore:
    """Files and persisted state under one data directory."""

    def __init__(self, data_dir: Path, catalog: dict[str, CatalogEntry]) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.weights_dir = self.data_dir / "models"
        self.weights_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.data_dir, self.weights_dir):  # files a crash left half written
            for stale in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
        self._file = StateFile(self.data_dir)
        state = self._file.load()
        self.catalog: dict[str, CatalogEntry] = {
            k: v for k, v in catalog.items() if k not in state.removed
        }
        for model_id, raw in state.created.items():
            entry = created_entry(model_id, raw)
            if entry is None or model_id in self.catalog:
                log.warning("state.json: dropped created model %r (invalid or duplicate)", model_id)
                continue
            self.catalog[model_id] = entry
        self._digests: set[asyncio.Future[None]] = set()

    @property
    def state(self) -> State:
        """What is on disk (a change shows here once it is durable)."""
        return self._file.state

    @property
    def edits(self) -> dict[str, dict[str, Any]]:
        return self.state.edits

    def _stem(self, model_id: str) -> str:
        return hashlib.sha256(model_id.encode("utf-8", "surrogatepass")).hexdigest()

    def weights_path(self, model_id: str) -> Path:
        return self.weights_dir / f"{self._stem(model_id)}.bin"

    def part_path(self, model_id: str) -> Path:
        return self.weights_dir / f"{self._stem(model_id)}.part"

    def is_downloaded(self, model_id: str) -> bool:
        source = self.catalog[model_id].source
        return source is not None and regular_size(self.weights_path(model_id)) == source.bytes

    def partial_bytes(self, model_id: str) -> int | None:
        """Bytes kept for a resume; None when there are none (a 0-byte ``.part`` is nothing)."""
        return regular_size(self.part_path(model_id)) or None

    def metadata(self, model_id: str) -> dict[str, Any]:
        """The catalog's public JSON with persisted edits merged in: a new dict whose nested
        values are shared (replace them, never change them in place; a deep copy per model made
        a list of 1,000 models twice as slow)."""
        return {**self.catalog[model_id].model, **self.edits.get(model_id, {})}

    async def save_edits(self, model_id: str, fields: dict[str, Any]) -> None:
        await self._file.commit({"op": "edit", "id": model_id, "fields": fields})

    async def add_created(
        self, model_id: str, model: dict[str, Any], source: Source | None
    ) -> None:
        """Record a created model. It is checked as a restart would read it *before* it is
        saved (``FieldError``), so nothing is stored that would not come back; it is in the
        catalog while the write runs, so a create racing it sees it (cap, duplicates)."""
        raw = {"model": model, "source": source.to_json() if source else None}
        entry = created_entry(model_id, raw)
        if entry is None:
            raise FieldError("the model cannot be stored: its source is not valid")
        self.catalog[model_id] = entry
        try:
            await self._file.commit({"op": "create", "id": model_id, "record": raw})
        except BaseException:
            self.catalog.pop(model_id, None)
            raise

    def record_digest(self, model_id: str, digest: str) -> None:
        """A created model without sha256 keeps the digest of its first download (saved in
        the background: called from a transfer's end)."""
        entry = self.catalog.get(model_id)
        if entry is None or entry.source is None or entry.source.sha256 is not None:
            return
        source = Source(entry.source.url, digest, entry.source.bytes)
        saving = self._file.submit({"op": "digest", "id": model_id, "source": source.to_json()})
        self._digests.add(saving)

        def saved(future: asyncio.Future[None]) -> None:
            self._digests.discard(future)
            if future.cancelled() or (exc := future.exception()) is not None:
                log.warning("cannot record the digest of %r: %s", model_id, exc)
            elif self.catalog.get(model_id) is entry:
                self.catalog[model_id] = CatalogEntry(entry.model, source, created=True)

        saving.add_done_callback(saved)

    async def remove(self, model_id: str) -> None:
        """Forget a custom model (and its edits) for good. Its files go first: when they cannot
        be deleted (OSError) the model stays, so no weights are left that nothing points to."""
        self.delete_weights(model_id)
        forget = not self.catalog[model_id].created
        await self._file.commit({"op": "remove", "id": model_id, "forget": forget})
        del self.catalog[model_id]

    def delete_weights(self, model_id: str) -> None:
        part = self.part_path(model_id)
        for path in (self.weights_path(model_id), part, resume.sidecar(part)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    async def close(self) -> None:
        """Write what is queued and fold the journal into ``state.json`` (on shutdown)."""
        await self._file.close()
