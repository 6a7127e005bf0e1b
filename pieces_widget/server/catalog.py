"""The server's catalog: which models exist, their public metadata and where their weights live.

A catalog file is a JSON list of Pieces OS ``Model`` objects. Each local model also carries a
``source`` the server downloads from, in one of two forms:

- ``{"url": "https://...", "sha256": "<hex>", "bytes": N}``: any http(s) URL; ``{server}`` in
  the URL stands for this server's own base URL.
- ``{"hub": "name.bin", "bytes": N}``: a blob the server generates into its local hub and
  serves at ``/hub/name.bin`` (``sha256`` may be given to override the computed digest).

``source`` is internal and never sent to clients; ``downloaded``, ``downloading`` and ``loaded``
are computed by the server, so values for them in the file are ignored. A model without
``created`` takes the file's modification time, so its date stays put across restarts.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..core.models import readable_bytes
from .fields import EDITABLE, FieldError, editable_fields
from .hub import ensure_blob
from .sources import disk_error

COMPUTED_FIELDS = ("downloaded", "downloading", "loaded")
SCHEMA = {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
DEMO_CATALOG = Path(__file__).with_name("demo_catalog.json")


class CatalogError(ValueError):
    """The catalog file is not usable; the message says which entry and why."""


@dataclass(frozen=True)
class Source:
    url: str
    sha256: str | None  # None: a created model's digest is recorded after its first download
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "sha256": self.sha256, "bytes": self.bytes}


@dataclass(frozen=True)
class CatalogEntry:
    model: dict[str, Any]  # public JSON, without source and computed fields
    source: Source | None  # None for cloud models
    created: bool = False  # made by POST /models/create (persisted in state.json)


def byte_descriptor(n: int) -> dict[str, Any]:
    return {"value": n, "readable": readable_bytes(n)}


def with_defaults(model: dict[str, Any]) -> dict[str, Any]:
    """Fill the Model fields the spec requires and a catalog or a create body may leave out."""
    model.setdefault("schema", SCHEMA)
    model.setdefault("version", "1.0.0")
    model.setdefault("cloud", False)
    model.setdefault("type", "BALANCED")
    model.setdefault("usage", "CODE_CONVERSATION")
    model.setdefault("created", {"value": datetime.now(timezone.utc).isoformat()})
    return model


def _source(raw: Any, where: str, server_url: str, hub_dir: Path) -> Source:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: 'source' must be an object")
    size = raw.get("bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise CatalogError(f"{where}: source 'bytes' must be a positive integer")
    if "hub" in raw:
        try:
            digest = ensure_blob(hub_dir, str(raw["hub"]), size)
        except ValueError as exc:
            raise CatalogError(f"{where}: {exc}") from None
        except OSError as exc:
            reason = disk_error(exc, str(hub_dir))
            raise CatalogError(
                f"{where}: cannot generate the hub blob {raw['hub']}: {reason}"
            ) from None
        url = f"{server_url}/hub/{raw['hub']}"
        return Source(url=url, sha256=str(raw.get("sha256") or digest).lower(), bytes=size)
    url = str(raw.get("url", "")).replace("{server}", server_url)
    if not re.match(r"^https?://", url):
        raise CatalogError(f"{where}: source 'url' must be http(s), got {url!r}")
    digest = str(raw.get("sha256", "")).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise CatalogError(f"{where}: source 'sha256' must be 64 hex digits")
    return Source(url=url, sha256=digest, bytes=size)


def _entry(
    raw: Any, index: int, server_url: str, hub_dir: Path, created: dict[str, str]
) -> CatalogEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise CatalogError(f"catalog entry {index}: must be an object with a non-empty string 'id'")
    where = f"catalog entry {index} ({raw['id']!r})"
    model = copy.deepcopy(raw)
    source_raw = model.pop("source", None)
    for key in COMPUTED_FIELDS:
        model.pop(key, None)
    model.setdefault("name", model["id"])
    model.setdefault("created", created)
    try:
        model.update(editable_fields({k: v for k, v in model.items() if k in EDITABLE}))
    except FieldError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    with_defaults(model)
    if model["cloud"]:
        return CatalogEntry(model=model, source=None)
    if source_raw is None:
        raise CatalogError(f"{where}: a local model needs a 'source'")
    source = _source(source_raw, where, server_url, hub_dir)
    model["bytes"] = byte_descriptor(source.bytes)
    model.setdefault("ram", byte_descriptor(source.bytes))
    return CatalogEntry(model=model, source=source)


def load_catalog(path: Path, server_url: str, hub_dir: Path) -> dict[str, CatalogEntry]:
    """Read a catalog file; hub blobs it names are generated on first use."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        written = datetime.fromtimestamp(Path(path).stat().st_mtime, timezone.utc)
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}") from None
    if not isinstance(data, list):
        raise CatalogError(f"catalog {path}: expected a JSON list of models")
    entries: dict[str, CatalogEntry] = {}
    for index, raw in enumerate(data):
        entry = _entry(raw, index, server_url, hub_dir, {"value": written.isoformat()})
        if entry.model["id"] in entries:
            raise CatalogError(f"catalog {path}: duplicate id {entry.model['id']!r}")
        entries[entry.model["id"]] = entry
    return entries
