"""The server's catalog: which models exist, their public metadata and where their weights live.

A catalog file is a JSON list of Pieces OS ``Model`` objects. Each local model also carries a
``source`` the server downloads from, in one of two forms:

- ``{"url": "https://...", "sha256": "<hex>", "bytes": N}``: any http(s) URL; ``{server}`` in
  the URL stands for this server's own base URL.
- ``{"hub": "name.bin", "bytes": N}``: a blob the server generates into its local hub and
  serves at ``/hub/name.bin`` (``sha256`` may be given to override the computed digest).

Every source (here, in a create body, in ``state.json``) is checked by ``parse_source``: one set
of rules. ``source`` is internal and never sent to clients; ``downloaded``, ``downloading`` and
``loaded`` are computed by the server, so values for them in the file are ignored. A model
without ``created`` takes the file's modification time, so its date stays put across restarts.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yarl

from ..core.models import readable_bytes
from .fields import EDITABLE, FieldError, editable_fields
from .hub import ensure_blob
from .sources import MAX_SIZE, disk_error

COMPUTED_FIELDS = ("downloaded", "downloading", "loaded")
SCHEMA = {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
DEMO_CATALOG = Path(__file__).with_name("demo_catalog.json")
MAX_URL = 2048
SOURCE_KEYS = ("url", "sha256", "bytes")
_HOST = re.compile(r"[\w.~-]+")  # letters (IDN too), digits, ".", "_", "~", "-"


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


@dataclass(frozen=True)
class SourceFields:
    """A ``source`` object's fields, each checked; which are required is the caller's rule."""

    url: str | None
    sha256: str | None
    bytes: int | None
    hub: str | None = None  # a catalog's generated hub blob, in place of ``url``


def parse_source(raw: Any, *, hub: bool = False, server_url: str | None = None) -> SourceFields:
    """The one check of a source, wherever it comes from (a catalog file, a create body,
    ``state.json``): no unknown keys; ``url`` http(s) that aiohttp can fetch (``{server}`` in it
    stands for ``server_url``); ``sha256`` 64 hex digits, lowercased (empty: none); ``bytes`` a
    positive integer up to ``MAX_SIZE``; with ``hub``, a ``hub`` blob name may stand for ``url``.
    Raises ``FieldError`` with the field and what is wrong."""
    if not isinstance(raw, dict):
        raise FieldError("'source' must be an object")
    keys = (*SOURCE_KEYS, "hub") if hub else SOURCE_KEYS
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise FieldError(f"source has unknown keys {unknown[:5]}; allowed: {list(keys)}")
    blob = raw.get("hub")
    if blob is not None and "url" in raw:
        raise FieldError("source has both 'url' and 'hub': give one")
    url = raw.get("url")
    if blob is None:
        if server_url is not None and isinstance(url, str):
            url = url.replace("{server}", server_url)
        url = check_url(url)
    digest = raw.get("sha256")
    size = raw.get("bytes")
    return SourceFields(
        url=url,
        sha256=None if digest in (None, "") else check_sha256(digest),
        bytes=None if size is None else check_size(size),
        hub=None if blob is None else str(blob),
    )


def check_url(url: Any) -> str:
    """An http(s) URL that aiohttp can fetch: scheme, host, port 1-65535, valid brackets, no
    control characters or spaces anywhere (a NUL would otherwise reach the request line)."""
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise FieldError(f"source 'url' must be a string of at most {MAX_URL} characters")
    shown = repr(url[:80])
    if any(c.isspace() or not c.isprintable() for c in url):
        raise FieldError(f"source 'url' has a space or control character: {shown}")
    try:
        url.encode("utf-8")
        parts = urlsplit(url)
        port = parts.port  # raises for a port out of range or not a number
        yarl.URL(url)  # what aiohttp will parse
    except (UnicodeError, ValueError) as exc:
        raise FieldError(f"source 'url' is not a valid URL ({exc}): {shown}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FieldError(f"source 'url' must be an http(s) URL, got {shown}")
    if port == 0:
        raise FieldError(f"source 'url' has port 0: {shown}")
    if ":" not in parts.hostname and not _HOST.fullmatch(parts.hostname):  # [v6] is checked
        raise FieldError(f"source 'url' has an invalid host name: {shown}")
    return url


def check_size(size: Any) -> int:
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_SIZE:
        raise FieldError("source 'bytes' must be a positive integer")
    return size


def check_sha256(digest: Any) -> str:
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise FieldError("source 'sha256' must be 64 hex digits")
    return digest.lower()


def _source(raw: Any, where: str, server_url: str, hub_dir: Path) -> Source:
    """A catalog model's source: ``bytes`` required, and ``sha256`` unless it is a hub blob
    (whose digest is computed; a given ``sha256`` overrides it)."""
    try:
        fields = parse_source(raw, hub=True, server_url=server_url)
        size = fields.bytes
        if size is None:
            raise FieldError("source 'bytes' must be a positive integer")
        if fields.url is not None:
            if fields.sha256 is None:
                raise FieldError("source 'sha256' must be 64 hex digits")
            return Source(url=fields.url, sha256=fields.sha256, bytes=size)
    except FieldError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    blob = str(fields.hub)  # no url: a hub blob
    try:
        digest = ensure_blob(hub_dir, blob, size)
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    except OSError as exc:
        reason = disk_error(exc, str(hub_dir))
        raise CatalogError(f"{where}: cannot generate the hub blob {blob}: {reason}") from None
    return Source(url=f"{server_url}/hub/{blob}", sha256=fields.sha256 or digest, bytes=size)


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
