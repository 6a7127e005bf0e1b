"""The on-disk model store: where weights live, and the state that persists (``state.json``).

Model ids are data, never paths: a model's files are named from a hash of its id, only ids the
server knows ever reach this module, and files are opened without following symlinks.

``state.json`` holds metadata edits of custom models, models made by ``/models/create`` (with
their source) and the custom catalog models that were deleted. It is written atomically; a file
that cannot be read is kept aside under a new name and the server starts clean.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from .catalog import CatalogEntry, Source
from .custom import created_entry
from .fields import lenient_fields
from .files import fsync_dir, open_fd

log = logging.getLogger("pieces_widget.server")
STATE_VERSION = 1
_TMP_PREFIX = ".state.json."


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``path`` whole or not at all; no temporary file is left, whatever fails."""
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def open_nofollow(path: Path, mode: str) -> Any:
    """``open(path, mode)`` for ``rb``, ``wb`` and ``ab`` that refuses a symlink (ELOOP)."""
    flags = {
        "rb": os.O_RDONLY,
        "wb": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
        "ab": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    }[mode]
    return os.fdopen(open_fd(path, flags), mode)


def regular_size(path: Path) -> int | None:
    """Size of a regular file at ``path`` (symlinks and others are not ours: None)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


class StateError(ValueError):
    """state.json is not the shape this server writes."""


class State:
    """The parsed content of ``state.json``."""

    def __init__(self) -> None:
        self.edits: dict[str, dict[str, Any]] = {}
        self.created: dict[str, dict[str, Any]] = {}  # id -> {"model": ..., "source": ...}
        self.removed: list[str] = []

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "edits": self.edits,
            "created": self.created,
            "removed": self.removed,
        }

    @classmethod
    def parse(cls, data: Any) -> State:
        state = cls()
        if not isinstance(data, dict):
            raise StateError("not a JSON object")
        edits, created, removed = (
            data.get("edits", {}),
            data.get("created", {}),
            data.get("removed", []),
        )
        if not isinstance(edits, dict) or not all(isinstance(v, dict) for v in edits.values()):
            raise StateError("'edits' is not an object of objects")
        if not isinstance(created, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("model"), dict) for v in created.values()
        ):
            raise StateError("'created' is not an object of {model, source} objects")
        if not isinstance(removed, list) or not all(isinstance(i, str) for i in removed):
            raise StateError("'removed' is not a list of ids")
        dropped = 0
        for model_id, fields in edits.items():
            state.edits[model_id], lost = lenient_fields(fields)  # read-only fields go here
            dropped += len(lost)
        if dropped:
            log.warning("state.json: ignored %d read-only or invalid edited fields", dropped)
        state.created = created
        state.removed = removed
        return state


def read_state(path: Path) -> State:
    """The state in ``path``; a bad file is renamed aside with one warning line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return State()
    try:
        return State.parse(json.loads(raw.decode("utf-8")))
    # RecursionError: nesting deeper than the decoder goes (e.g. 100000 '[').
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, StateError) as exc:
        aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
        reason = str(exc).splitlines()[0][:120] if raw else "empty file"
        try:
            os.replace(path, aside)
            kept = f"kept aside as {aside.name}"
        except OSError as move_error:
            kept = f"could not be moved aside ({move_error.strerror})"
        log.warning(
            "state.json is unreadable (%s): %s; starting with no edits or created models",
            reason,
            kept,
        )
        return State()


class ModelStore:
    """Files and persisted state under one data directory."""

    def __init__(self, data_dir: Path, catalog: dict[str, CatalogEntry]) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.weights_dir = self.data_dir / "models"
        self.weights_dir.mkdir(parents=True, exist_ok=True)
        self._state_path = self.data_dir / "state.json"
        for stale in self.data_dir.glob(_TMP_PREFIX + "*.tmp"):  # a crash mid-write
            stale.unlink(missing_ok=True)
        self.state = read_state(self._state_path)
        self.catalog: dict[str, CatalogEntry] = {
            k: v for k, v in catalog.items() if k not in self.state.removed
        }
        for model_id, raw in list(self.state.created.items()):
            entry = created_entry(model_id, raw)
            if entry is None or model_id in self.catalog:
                log.warning("state.json: dropped created model %r (invalid or duplicate)", model_id)
                del self.state.created[model_id]
                continue
            self.catalog[model_id] = entry

    @property
    def edits(self) -> dict[str, dict[str, Any]]:
        return self.state.edits

    def _save(self, change: Any) -> None:
        """Apply ``change(state)`` to a copy, write it, and keep it only if the write worked."""
        candidate = copy.deepcopy(self.state)
        change(candidate)
        atomic_write_json(self._state_path, candidate.to_json())
        self.state = candidate

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
        return regular_size(self.part_path(model_id))

    def metadata(self, model_id: str) -> dict[str, Any]:
        """The catalog's public JSON with persisted edits merged in (a fresh copy)."""
        model = json.loads(json.dumps(self.catalog[model_id].model))
        model.update(self.edits.get(model_id, {}))
        return model

    def save_edits(self, model_id: str, fields: dict[str, Any]) -> None:
        def change(state: State) -> None:
            state.edits[model_id] = {**state.edits.get(model_id, {}), **fields}

        self._save(change)

    def add_created(self, model_id: str, model: dict[str, Any], source: Source | None) -> None:
        raw = {"model": model, "source": source.to_json() if source else None}

        def change(state: State) -> None:
            state.created[model_id] = raw

        self._save(change)
        entry = created_entry(model_id, raw)
        assert entry is not None
        self.catalog[model_id] = entry

    def record_digest(self, model_id: str, digest: str) -> None:
        """A created model without sha256 keeps the digest of its first download."""
        entry = self.catalog.get(model_id)
        if entry is None or entry.source is None or entry.source.sha256 is not None:
            return
        source = Source(entry.source.url, digest, entry.source.bytes)

        def change(state: State) -> None:
            state.created[model_id]["source"] = source.to_json()

        self._save(change)
        self.catalog[model_id] = CatalogEntry(entry.model, source, created=True)

    def remove(self, model_id: str) -> None:
        """Forget a custom model (and its edits) for good. Its files go first: when they cannot
        be deleted (OSError) the model stays, so no weights are left that nothing points to."""
        self.delete_weights(model_id)

        def change(state: State) -> None:
            state.created.pop(model_id, None)
            state.edits.pop(model_id, None)
            if model_id not in state.removed and not self.catalog[model_id].created:
                state.removed.append(model_id)

        self._save(change)
        del self.catalog[model_id]

    def delete_weights(self, model_id: str) -> None:
        for path in (self.weights_path(model_id), self.part_path(model_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
