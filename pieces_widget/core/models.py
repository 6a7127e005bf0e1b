"""Typed, lenient views of the Pieces OS JSON the Model API sends.

Pieces OS adds enum values and fields every release, so nothing here rejects what it does not
know: the JSON is kept as it came in ``raw`` and the attributes read from it defensively.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .labels import state_text
from .numbers import readable_bytes as readable_bytes  # where the server and others import it

# Download status strings, exactly as on the wire (ModelDownloadProgressStatusEnum).
INITIALIZED = "INITIALIZED"
IN_PROGRESS = "IN-PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
UNKNOWN = "UNKNOWN"
CANCELED = "CANCELED"
RESET = "RESET"
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, CANCELED})


def check_id(model_id: object) -> str:
    """A model id as given, or a one-line ``TypeError``/``ValueError`` for what cannot be one."""
    if not isinstance(model_id, str):
        raise TypeError(f"a model id is a string, not {type(model_id).__name__}")
    if not model_id:
        raise ValueError("a model id cannot be empty")
    try:
        model_id.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"model id {model_id!r} is not valid text (it cannot be encoded)"
        ) from None
    return model_id


MAX_JSON_DEPTH = 64  # a Model is a few levels deep; a listing of them a few more
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONTooDeep(ValueError):
    """JSON nested deeper than ``MAX_JSON_DEPTH`` levels."""


def _finite(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def loads(data: str | bytes) -> Any:
    """Server JSON as Python values that are safe to keep, compare and send on: ``ValueError``
    for what is not JSON, ``JSONTooDeep`` past ``MAX_JSON_DEPTH`` levels (never a
    ``RecursionError``); a lone surrogate (``"\\ud800"``, which no text encoding can carry)
    becomes U+FFFD; NaN, Infinity and out-of-range numbers become None."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=lambda _: None)
    except RecursionError:
        raise JSONTooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    return _settle(value, 0, _SURROGATE_ESCAPE.search(text) is not None)


def _settle(value: Any, depth: int, fix: bool) -> Any:
    """``value`` with its depth checked and, with ``fix``, lone surrogates replaced."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if fix else value
    if not isinstance(value, (list, dict)):
        return value
    if depth >= MAX_JSON_DEPTH:
        raise JSONTooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (list, dict)) or (fix and isinstance(item, str)):
                value[index] = _settle(item, depth + 1, fix)
        return value
    if fix:
        return {_settle(k, depth, fix): _settle(v, depth + 1, fix) for k, v in value.items()}
    for key, item in value.items():
        if isinstance(item, (list, dict)):
            value[key] = _settle(item, depth + 1, fix)
    return value


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _byte_value(descriptor: Any) -> int | None:
    """``ByteDescriptor.value`` as an int, or None when absent or not a number."""
    if not isinstance(descriptor, dict):
        return None
    value = descriptor.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value)


@dataclass(frozen=True)
class Model:
    """One Pieces OS ``Model``; ``raw`` is the server's JSON untouched (camelCase keys)."""

    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | bytes) -> Model:
        if isinstance(data, (str, bytes)):
            data = loads(data)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("a Model is a JSON object with a string 'id'")
        return cls(raw=data)

    def _flag(self, key: str) -> bool:
        return self.raw.get(key) is True

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def name(self) -> str:
        return _str_or_none(self.raw.get("name")) or self.id

    @property
    def version(self) -> str | None:
        return _str_or_none(self.raw.get("version"))

    @property
    def description(self) -> str | None:
        return _str_or_none(self.raw.get("description"))

    @property
    def foundation(self) -> str | None:
        return _str_or_none(self.raw.get("foundation"))

    @property
    def provider(self) -> str | None:
        return _str_or_none(self.raw.get("provider"))

    @property
    def quantization(self) -> str | None:
        return _str_or_none(self.raw.get("quantization"))

    @property
    def cloud(self) -> bool:
        return self._flag("cloud")

    @property
    def custom(self) -> bool:
        return self._flag("custom")

    @property
    def downloaded(self) -> bool:
        return self._flag("downloaded")

    @property
    def downloading(self) -> bool:
        return self._flag("downloading")

    @property
    def loaded(self) -> bool:
        return self._flag("loaded")

    @property
    def bytes(self) -> int | None:
        return _byte_value(self.raw.get("bytes"))

    @property
    def ram(self) -> int | None:
        return _byte_value(self.raw.get("ram"))

    @property
    def error(self) -> str | None:
        """Why the last download failed (reference server extension; None from Pieces OS)."""
        return _str_or_none(self.raw.get("error")) or None

    @property
    def partial_bytes(self) -> int | None:
        """Bytes of a stopped download the server keeps to resume from (reference server
        extension ``partialBytes``); None where the server says nothing (Pieces OS)."""
        value = self.raw.get("partialBytes")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return None
        return value

    @property
    def state(self) -> str:
        """One key for scripts (``--json``'s ``state``): downloading, loaded, downloaded, cloud
        or not downloaded. People read ``state_text``, as the widget says it."""
        if self.downloading:
            return "downloading"
        if self.loaded:
            return "loaded"
        if self.downloaded:
            return "downloaded"
        return "cloud" if self.cloud else "not downloaded"

    @property
    def state_text(self) -> str:
        """The state in the widget's words: "On device · Loaded", "Partly downloaded (46 %)"."""
        return state_text(self)

    def __repr__(self) -> str:  # short: a list of models prints one line each
        name = "" if self.name == self.id else f" {self.name!r}"
        return f"<Model {self.id!r}{name}, {self.state_text}>"


def clamp_percentage(value: Any) -> float | None:
    """A wire percentage as a float in 0-100, or None when absent or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return None
    return min(100.0, max(0.0, float(value)))


NO_REASON = "Pieces OS reported the download as failed (no reason given)"


@dataclass(frozen=True)
class DownloadProgress:
    """One ``ModelDownloadProgress`` frame: the wire status string, a 0-100 percentage and, for a
    failure, the reason (the reference server's extra ``error`` field; Pieces OS sends none)."""

    status: str
    percentage: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    error: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | bytes) -> DownloadProgress:
        """Parse a frame; unknown statuses are kept, a missing one reads as ``UNKNOWN``.

        Raises ``ValueError`` for anything that is not a JSON object.
        """
        if isinstance(data, (str, bytes)):
            data = loads(data)
        if not isinstance(data, dict):
            raise ValueError("a ModelDownloadProgress frame is a JSON object")
        status = data.get("status")
        error = data.get("error")
        return cls(
            status=status if isinstance(status, str) and status else UNKNOWN,
            percentage=clamp_percentage(data.get("percentage")),
            raw=data,
            error=" ".join(error.split())[:500] or None if isinstance(error, str) else None,
        )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES
