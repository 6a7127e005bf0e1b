"""Loading weights into memory for real: mmap the file and touch every page."""

from __future__ import annotations

import mmap
from pathlib import Path

PAGE = mmap.PAGESIZE


class LoadedWeights:
    """A model's weights resident in this process until ``close()``."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.size = len(self._map)
        if hasattr(self._map, "madvise"):
            self._map.madvise(mmap.MADV_WILLNEED)
        # Reading one byte per page faults every page in, so RSS grows by the model size.
        checksum = 0
        for offset in range(0, self.size, PAGE):
            checksum ^= self._map[offset]
        self.touch_checksum = checksum

    def close(self) -> None:
        self._map.close()
