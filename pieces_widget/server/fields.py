"""What a client may write into a Model: the editable fields, their spec types and size caps.

``/model/update``, ``/models/create``, the catalog and ``state.json`` all pass through here, so
every Model the server returns validates against the OpenAPI spec. The enum values are the
spec's own (``spec_enums.json``, checked against ``spec/openapi.yaml`` by the tests).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

MAX_BODY = 64 * 1024  # bytes of one update/create body
MAX_STRING = {"name": 200, "description": 4000, "version": 64, "quantization": 64, "unique": 200}
# Fields the server owns: ignored in bodies and state files, never an error (clients send
# back the whole Model they got, extras included).
READ_ONLY = frozenset(
    {
        "id", "bytes", "ram", "downloaded", "downloading", "loaded", "cloud", "custom",
        "source", "schema", "created", "score", "error", "partialBytes",
    }
)  # fmt: skip
ENUMS: dict[str, list[str]] = json.loads(
    Path(__file__).with_name("spec_enums.json").read_text(encoding="utf-8")
)
ENUM_FIELDS = {
    "type": "ModelTypeEnum",
    "usage": "ModelUsageEnum",
    "foundation": "ModelFoundationEnum",
    "provider": "ExternalMLProviderEnum",
}
CAPABILITIES = ("temporal", "images", "videos", "documents", "codebases", "assets", "websites")
MAX_TOKENS = ("total", "input", "output")


class FieldError(ValueError):
    """A body or stored value the Model schema does not allow; the message names the field."""


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= 1e15
    )


def _string(key: str) -> Callable[[Any], Any]:
    cap = MAX_STRING[key]

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldError(f"field {key!r} must be a string")
        if len(value) > cap:
            raise FieldError(f"field {key!r} is too long: {len(value)} characters, at most {cap}")
        if key == "name" and not value.strip():
            raise FieldError("field 'name' must not be empty")
        return value

    return check


def _enum(key: str) -> Callable[[Any], Any]:
    values = ENUMS[ENUM_FIELDS[key]]
    allowed = frozenset(values)

    def check(value: Any) -> Any:
        if value not in allowed:
            shown = repr(value)[:60]
            raise FieldError(
                f"field {key!r} must be one of the spec's {ENUM_FIELDS[key]} values "
                f"(e.g. {values[0]!r}), got {shown}"
            )
        return value

    return check


def _bool(key: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, bool):
            raise FieldError(f"field {key!r} must be true or false")
        return value

    return check


def _parameters(value: Any) -> Any:
    if value is not None and not _number(value):
        raise FieldError("field 'parameters' must be a number (billions, at most 1e15) or null")
    return value


def _object(key: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"field {key!r} must be an object")
    unknown = sorted(set(value) - set(allowed) - {"schema"})
    if unknown:
        raise FieldError(f"field {key!r} has unknown keys {unknown[:5]}; allowed: {list(allowed)}")
    return {k: v for k, v in value.items() if k != "schema"}


def _max_tokens(value: Any) -> Any:
    tokens = _object("maxTokens", value, MAX_TOKENS)
    if "total" not in tokens:
        raise FieldError("field 'maxTokens' needs 'total'")
    for k, v in tokens.items():
        if v is not None and not _number(v):
            raise FieldError(f"field 'maxTokens.{k}' must be a number (at most 1e15) or null")
    return tokens


def _capabilities(value: Any) -> Any:
    caps = _object("capabilities", value, CAPABILITIES)
    for k, v in caps.items():
        if not isinstance(v, bool):
            raise FieldError(f"field 'capabilities.{k}' must be true or false")
    return caps


EDITABLE: dict[str, Callable[[Any], Any]] = {
    **{key: _string(key) for key in MAX_STRING},
    **{key: _enum(key) for key in ENUM_FIELDS},
    "cpu": _bool("cpu"),
    "parameters": _parameters,
    "maxTokens": _max_tokens,
    "capabilities": _capabilities,
}


def editable_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The editable fields of a Model body, checked; read-only ones dropped, unknown refused."""
    unknown = sorted(k for k in body if k not in EDITABLE and k not in READ_ONLY)
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise FieldError(f"unknown field {shown}: editable fields are {', '.join(EDITABLE)}")
    return {k: EDITABLE[k](v) for k, v in body.items() if k in EDITABLE}


def lenient_fields(stored: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """For files (state.json): keep what is valid, and name what was dropped."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in stored.items():
        if key not in EDITABLE:
            dropped.append(key)
            continue
        try:
            kept[key] = EDITABLE[key](value)
        except FieldError:
            dropped.append(key)
    return kept, dropped


def timestamp(value: Any) -> dict[str, Any]:
    """A ``GroupedTimestamp`` with an RFC 3339 ``value``."""
    raw = value.get("value") if isinstance(value, dict) else None
    if not isinstance(raw, str) or len(raw) > 64:
        raise FieldError("field 'created' must be an object with a date-time 'value'")
    try:
        parsed = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", raw))
    except ValueError:
        raise FieldError(f"field 'created.value' is not a date-time: {raw[:40]!r}") from None
    if parsed.tzinfo is None:
        raise FieldError("field 'created.value' needs a time zone (e.g. 2024-05-01T12:00:00Z)")
    return {"value": parsed.isoformat()}
