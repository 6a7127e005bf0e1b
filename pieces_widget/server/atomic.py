"""Files written whole or not at all, never through a symlink: a temporary file made with
``O_EXCL`` (``mkstemp``: a name planted in advance is never opened), fsynced, renamed over the
target (a rename replaces a symlink, it does not follow it), then the directory fsynced."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from .files import fsync_dir, open_fd


def regular_size(path: Path) -> int | None:
    """Size of a regular file at ``path`` (symlinks and others are not ours: None)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` (private to this user unless ``mode`` says otherwise);
    no temporary file is left, whatever fails."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def read_small(path: Path, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of a regular file at ``path``, not through a symlink; None when
    there is no such file, it cannot be read, or it is bigger."""
    try:
        fd = open_fd(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        raw = os.read(fd, limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return raw if len(raw) <= limit else None
