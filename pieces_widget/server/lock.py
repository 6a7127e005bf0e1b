"""One server per data directory: an exclusive OS lock on ``DATA_DIR/server.lock``.

The lock is ``filelock``'s native one on our own descriptor (``flock`` on Linux and macOS,
``LockFileEx`` on byte 0 on Windows), so the OS drops it when the process dies, however it
dies; the file itself stays. The file also says who holds it (pid and URL, after byte 0, which
Windows keeps unreadable while locked), so a second server can name the first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import lock_descriptor, unlock_descriptor

from .files import open_fd, pread, pwrite

LOCK_NAME = "server.lock"
_HOLDER_AT = 1  # the holder's JSON starts after the locked byte


class DataDirBusy(RuntimeError):
    """Another server holds the data directory; the message names it."""


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.path = self.data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once or raise ``DataDirBusy`` (``OSError`` if the dir is unusable)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = open_fd(self.path, os.O_RDWR | os.O_CREAT)
        try:
            taken = lock_descriptor(fd, blocking=False)
        except BaseException:
            os.close(fd)
            raise
        if not taken:
            holder = _describe(pread(fd, 4096, _HOLDER_AT))
            os.close(fd)
            raise DataDirBusy(
                f"data directory {self.data_dir} is in use by another server ({holder})"
            )
        os.ftruncate(fd, 0)  # a dead holder's record would name the wrong server
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def record(self, url: str) -> None:
        """Say who holds the lock (after the server knows its URL)."""
        assert self._fd is not None
        data = b"\n" + json.dumps({"pid": os.getpid(), "url": url}).encode()
        pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                unlock_descriptor(fd)
            finally:
                os.close(fd)


def _describe(raw: bytes) -> str:
    try:
        holder = json.loads(raw)
        return f"pid {int(holder['pid'])}, {holder['url']}"
    except (ValueError, KeyError, TypeError):
        return "a server that is still starting"
