"""One server per data directory: an exclusive ``flock`` on ``DATA_DIR/server.lock``.

The lock file also says who holds it (pid and URL), so a second server can name the first.
The kernel drops the lock when the process dies, however it dies; the file itself stays.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

LOCK_NAME = "server.lock"


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
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(fd, 4096, 0))
            os.close(fd)
            raise DataDirBusy(
                f"data directory {self.data_dir} is in use by another server ({holder})"
            ) from None
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def record(self, url: str) -> None:
        """Say who holds the lock (after the server knows its URL)."""
        assert self._fd is not None
        data = json.dumps({"pid": os.getpid(), "url": url}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _describe(raw: bytes) -> str:
    try:
        holder = json.loads(raw)
        return f"pid {int(holder['pid'])}, {holder['url']}"
    except (ValueError, KeyError, TypeError):
        return "a server that is still starting"
