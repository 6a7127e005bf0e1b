"""Custom models made with ``POST /models/create``: the body they come from and the record kept.

The body is a ``SeededModel`` (``name`` required, the spec's other required fields defaulted as
for the catalog) plus, as this server's extension, a ``source``:
``{"url": "http(s)://...", "sha256": optional 64 hex, "bytes": optional size}``. Without
``bytes`` the server asks the source for its size at create time (see ``sources.probe_size``);
without ``sha256`` the first complete download is accepted and its digest recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yarl

from .catalog import CatalogEntry, Source, byte_descriptor, with_defaults
from .fields import READ_ONLY, FieldError, editable_fields, timestamp
from .sources import MAX_SIZE

MAX_CUSTOM_MODELS = 1000
MAX_URL = 2048
SOURCE_KEYS = ("url", "sha256", "bytes")
_HOST = re.compile(r"[\w.~-]+")  # letters (IDN too), digits, ".", "_", "~", "-"


@dataclass(frozen=True)
class Seed:
    model: dict[str, Any]  # public JSON without id and computed fields
    url: str | None  # None for a cloud model
    sha256: str | None
    bytes: int | None  # None: ask the source


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


def _ram(value: Any) -> dict[str, Any]:
    size = value.get("value") if isinstance(value, dict) else None
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        raise FieldError("field 'ram' must be a ByteDescriptor with an integer 'value'")
    return byte_descriptor(size)


def parse_seed(body: Any) -> Seed:
    """Check a create body; raises ``FieldError`` with the field and what is wrong."""
    if not isinstance(body, dict):
        raise FieldError("the body must be a SeededModel: a JSON object with at least a 'name'")
    if "name" not in body:
        raise FieldError("field 'name' is required")
    cloud = body.get("cloud", False)
    if not isinstance(cloud, bool):
        raise FieldError("field 'cloud' must be true or false")
    special = {"cloud", "created", "ram", "source"}
    model = editable_fields({k: v for k, v in body.items() if k not in special})
    model.update(cloud=cloud, custom=True)
    if "created" in body:
        model["created"] = timestamp(body["created"])
    if "ram" in body:
        model["ram"] = _ram(body["ram"])
    with_defaults(model)
    source = body.get("source")
    if cloud:
        if source is not None:
            raise FieldError("a cloud model has no 'source'")
        return Seed(model, None, None, None)
    if not isinstance(source, dict):
        raise FieldError(
            'a local model needs a \'source\': {"url": "https://...", "sha256": optional,'
            ' "bytes": optional}'
        )
    unknown = sorted(set(source) - set(SOURCE_KEYS))
    if unknown:
        raise FieldError(f"source has unknown keys {unknown[:5]}; allowed: {list(SOURCE_KEYS)}")
    url = check_url(source.get("url"))
    digest = None if source.get("sha256") in (None, "") else check_sha256(source["sha256"])
    size = None if source.get("bytes") is None else check_size(source["bytes"])
    return Seed(model, url, digest, size)


def created_entry(model_id: str, raw: Any) -> CatalogEntry | None:
    """A stored created model (``state.json``) as the catalog holds it; None if unusable."""
    try:
        stored = raw["model"]
        model = editable_fields({k: v for k, v in stored.items() if k not in READ_ONLY})
        model.update(cloud=stored["cloud"] is True, custom=True)
        model["created"] = timestamp(stored.get("created"))
        if "ram" in stored:
            model["ram"] = _ram(stored["ram"])
        with_defaults(model)
        model["id"] = model_id
        if model["cloud"]:
            return CatalogEntry(model=model, source=None, created=True)
        src = raw["source"]
        digest = None if src.get("sha256") is None else check_sha256(src["sha256"])
        source = Source(check_url(src["url"]), digest, check_size(src["bytes"]))
    except (FieldError, KeyError, TypeError, AttributeError):
        return None
    model["bytes"] = byte_descriptor(source.bytes)
    model.setdefault("ram", byte_descriptor(source.bytes))
    return CatalogEntry(model=model, source=source, created=True)
