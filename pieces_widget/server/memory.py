"""Loading weights into memory for real: mmap the file and touch every page."""

from __future__ import annotations

import mmap
import os
import threading
from pathlib import Path

from .files import open_fd

PAGE = mmap.PAGESIZE
_CHECK_EVERY = 4096  # pages between looks at the stop flag (16 MiB)


class LoadAborted(Exception):
    """The server is stopping: the load was given up."""


class LoadedWeights:
    """A model's weights resident in this process until ``close()``."""

    def __init__(self, path: Path, stop: threading.Event | None = None) -> None:
        fd = open_fd(path, os.O_RDONLY)
        try:
            self._map = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        self.size = len(self._map)
        if hasattr(self._map, "madvise"):
            self._map.madvise(mmap.MADV_WILLNEED)
        # Reading one byte per page faults every page in, so RSS grows by the model size.
        checksum = 0
        for index, offset in enumerate(range(0, self.size, PAGE)):
            if stop is not None and index % _CHECK_EVERY == 0 and stop.is_set():
                self._map.close()
                raise LoadAborted("the server is stopping")
            checksum ^= self._map[offset]
        self.touch_checksum = checksum

    def close(self) -> None:
        self._map.close()
