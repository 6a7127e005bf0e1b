"""Which version of a source a ``.part`` file holds, so a resume never splices two versions.

The first response of a download gives a validator: its strong ``ETag``, else its
``Last-Modified``. It is kept next to the ``.part`` (``<stem>.resume``, written atomically
before the first byte, so it survives a restart of the server), sent as ``If-Range`` with every
later ``Range`` request, and compared with what a ``206`` answer carries: a source whose file
changed answers ``200`` with the new file (or a ``206`` of another version), and the download
starts over from byte 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .atomic import atomic_write, read_small

_VALUE = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,199}")  # one printable header value
MAX_FILE = 4096


@dataclass(frozen=True)
class Validator:
    etag: str | None = None  # strong only: If-Range refuses weak ones
    last_modified: str | None = None

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> Validator | None:
        """The validator a response carries, or None."""
        etag = _clean(headers.get("ETag"))
        if etag is not None and etag.startswith("W/"):
            etag = None
        last_modified = _clean(headers.get("Last-Modified"))
        if etag is None and last_modified is None:
            return None
        return cls(etag, last_modified)

    def if_range(self) -> str:
        return self.etag or self.last_modified or ""

    def same_as(self, headers: Mapping[str, str]) -> bool:
        """Whether a response is of the version we hold (as far as it says)."""
        other = Validator.of(headers)
        if other is None:
            return True  # nothing to compare; the Content-Range check still holds
        if self.etag is not None and other.etag is not None:
            return self.etag == other.etag
        if self.last_modified is not None and other.last_modified is not None:
            return self.last_modified == other.last_modified
        return True


def _clean(value: str | None) -> str | None:
    return value if value is not None and _VALUE.fullmatch(value) else None


def sidecar(part: Path) -> Path:
    return part.with_suffix(".resume")


def load(part: Path, url: str) -> Validator | None:
    """The validator kept for ``part`` if it was fetched from ``url``; None when there is none,
    or it cannot be read (a symlink, not our JSON)."""
    raw = read_small(sidecar(part), MAX_FILE)
    try:
        data = json.loads(raw or b"")
        if data["url"] != url:
            return None
        fields = (("ETag", data["etag"]), ("Last-Modified", data["lastModified"]))
        return Validator.of({k: v for k, v in fields if isinstance(v, str)})
    except (ValueError, KeyError, TypeError):
        return None


def save(part: Path, url: str, validator: Validator | None) -> None:
    """Keep ``validator`` for ``part`` (durably: before any byte of that version is written),
    or forget the old one when the source gave none. OSError when the disk says no."""
    if validator is None:
        drop(part)
        return
    data = {"url": url, "etag": validator.etag, "lastModified": validator.last_modified}
    atomic_write(sidecar(part), json.dumps(data).encode())


def drop(part: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(sidecar(part))
