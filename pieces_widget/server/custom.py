"""Custom models made with ``POST /models/create``: the body they come from and the record kept.

The body is a ``SeededModel`` (``name`` required, the spec's other required fields defaulted as
for the catalog) plus, as this server's extension, a ``source``:
``{"url": "http(s)://...", "sha256": optional 64 hex, "bytes": optional size}``. Without
``bytes`` the server asks the source for its size at create time (see ``sources.probe_size``);
without ``sha256`` the first complete download is accepted and its digest recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import CatalogEntry, Source, byte_descriptor, parse_source, with_defaults
from .fields import READ_ONLY, FieldError, editable_fields, timestamp
from .sources import MAX_SIZE

MAX_CUSTOM_MODELS = 1000


@dataclass(frozen=True)
class Seed:
    model: dict[str, Any]  # public JSON without id and computed fields
    url: str | None  # None for a cloud model
    sha256: str | None
    bytes: int | None  # None: ask the source


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
    fields = parse_source(source)
    return Seed(model, fields.url, fields.sha256, fields.bytes)


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
        fields = parse_source(raw["source"])
        if fields.url is None or fields.bytes is None:
            return None
        source = Source(fields.url, fields.sha256, fields.bytes)
    except (FieldError, KeyError, TypeError, AttributeError):
        return None
    model["bytes"] = byte_descriptor(source.bytes)
    model.setdefault("ram", byte_descriptor(source.bytes))
    return CatalogEntry(model=model, source=source, created=True)
