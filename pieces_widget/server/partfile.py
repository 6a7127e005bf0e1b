"""A download's ``.part`` file on disk: opened for appending (never through a symlink), the bytes
it already holds hashed for a resume, checked and renamed into place, removed with its resume
sidecar, and a disk failure during the download put in words (removing the file when it must go).
The download itself, its status and its order of steps are ``transfer.py``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from ..core.models import readable_bytes
from . import resume
from .files import fsync_dir, open_fd, pread
from .sink import CHUNK, Sink, flush_error
from .sources import disk_error


class TransferError(Exception):
    """Why a download failed, in words for the user."""


def open_part(part: Path) -> Any:
    """The ``.part`` file for appending and reading back, never through a symlink."""
    try:
        fd = open_fd(part, os.O_RDWR | os.O_CREAT | os.O_APPEND)
    except OSError as exc:
        raise TransferError(disk_error(exc, str(part.parent))) from None
    return os.fdopen(fd, "a+b", buffering=0)


def discard(part: Path) -> None:
    """Remove the ``.part`` and what it was downloaded from (never an error)."""
    for path in (part, resume.sidecar(part)):
        with contextlib.suppress(OSError):
            path.unlink()


async def hash_prefix(fd: int, size: int) -> Any:
    """A sha256 fed the first ``size`` bytes of ``fd`` (the part a resume keeps), read in a
    worker thread. A cancel stops the read but is raised only once that thread is done with
    ``fd``, even through a second cancel (a shutdown), so the caller may close the file."""
    hasher = hashlib.sha256()
    if not size:
        return hasher
    stop = threading.Event()
    hashing = asyncio.get_running_loop().run_in_executor(None, _hash_blocks, fd, size, hasher, stop)
    try:
        await asyncio.shield(hashing)
    except asyncio.CancelledError:
        stop.set()  # the thread reads the caller's fd: let it finish before the fd is closed
        while not hashing.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([hashing])
        raise
    return hasher


def _hash_blocks(fd: int, size: int, hasher: Any, stop: threading.Event) -> None:
    offset = 0
    while offset < size and not stop.is_set():
        block = pread(fd, min(CHUNK * 4, size - offset), offset)
        if not block:
            break
        hasher.update(block)
        offset += len(block)


def install(part: Path, final: Path, digest: str, sha256: str | None) -> None:
    """Check the finished ``.part`` against ``sha256`` (when the source gave one) and rename it
    into place; a mismatch deletes it. ``TransferError`` when it cannot be installed."""
    if sha256 is not None and digest != sha256:
        discard(part)
        raise TransferError(
            "checksum mismatch: the file does not have the expected sha256, it was deleted"
        )
    try:
        os.replace(part, final)
        fsync_dir(final.parent)
    except OSError as exc:
        raise TransferError(disk_error(exc, str(final.parent))) from None
    resume.drop(part)


def disk_failure(exc: OSError, part: Path, sink: Sink, total: int) -> str:
    """A write or flush failure of the download into ``part`` in words; removes the ``.part``
    when it must not stay (a full disk, or bytes that may never have reached the disk)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        # A partial file must not keep the disk full: remove it (decided; see README).
        discard(part)
        return (
            f"disk full after {readable_bytes(sink.written)} of "
            f"{readable_bytes(total)}: the partial file was removed to free "
            "the space; free some disk space and download again"
        )
    if flush_error(sink.flushing) is not None:
        # The written bytes may be in memory only, and the kernel will not say so again.
        discard(part)
        return f"{disk_error(exc, str(part.parent))}; the partial file was removed"
    return disk_error(exc, str(part.parent))
