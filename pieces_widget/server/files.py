"""Opening the server's files on every OS, never through a symlink.

Where the OS has ``O_NOFOLLOW`` (Linux, macOS, the BSDs) the kernel refuses a symlink at the
path. Where it does not (Windows), a checked open does the same job: ``lstat`` before, refuse a
link or anything but a regular file, open, then ``fstat`` the descriptor and refuse it unless it
is the file seen before (same device and inode). A file that does not exist yet is created with
``O_EXCL``, so nothing planted in between is opened, and ``O_TRUNC`` is applied only once the
descriptor is checked, so a swapped-in link never truncates its target. Either way a refusal is
``OSError(ELOOP)``, which ``sources.disk_error`` words as "refusing to follow a symlink".
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def _base_flags() -> int:
    # O_BINARY: Windows opens in text mode otherwise (os.write would turn \n into \r\n).
    return getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _refuse(path: Path | str) -> OSError:
    return OSError(errno.ELOOP, "refusing to follow a symlink", str(path))


def open_fd(path: Path | str, flags: int, mode: int = 0o644) -> int:
    """``os.open(path, flags, mode)`` that never follows a symlink at ``path``."""
    nofollow = getattr(os, "O_NOFOLLOW", None)  # looked up per call: tests take it away
    if nofollow is not None:
        return os.open(path, flags | nofollow | _base_flags(), mode)
    return _checked_open(path, flags, mode)


def _checked_open(path: Path | str, flags: int, mode: int) -> int:
    try:
        before: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        before = None
    if before is not None and not stat.S_ISREG(before.st_mode):
        raise _refuse(path)
    truncate = bool(flags & os.O_TRUNC)
    flags &= ~os.O_TRUNC
    if before is None and flags & os.O_CREAT:
        flags |= os.O_EXCL  # a link (or file) that appeared since the lstat fails with EEXIST
    fd = os.open(path, flags | _base_flags(), mode)
    try:
        after = os.fstat(fd)
        same = before is None or (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
        if not same or not stat.S_ISREG(after.st_mode):
            raise _refuse(path)
        if truncate:
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def pread(fd: int, size: int, offset: int) -> bytes:
    """``os.pread`` where the OS has it; elsewhere (Windows) a seek and a read, which moves the
    file position: only for a descriptor that one thread uses at a time."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def pwrite(fd: int, data: bytes, offset: int) -> None:
    """``os.pwrite`` where the OS has it; elsewhere a seek and a write (see ``pread``)."""
    if hasattr(os, "pwrite"):
        os.pwrite(fd, data, offset)
        return
    os.lseek(fd, offset, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable. Windows cannot open a directory, and NTFS journals
    the rename itself: nothing to do there."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
