"""One writer per widget: background threads hand state to ``Coalescer``, which applies it at most
``rate`` times a second (Jupyter Server drops iopub messages above ~1000/s, so a flood would lose
the final 100 %). The last state handed in is always applied; no thread lives while idle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Coalescer:
    """Merge updates ``{name: value}`` and ``apply`` them in batches, spaced ``1/rate`` s apart."""

    def __init__(self, apply: Callable[[dict[str, Any]], None], rate: float = 10.0) -> None:
        self._apply = apply
        self._interval = 1.0 / rate
        self._lock = threading.Lock()
        self._pending: dict[str, Any] = {}
        self._timer: threading.Timer | None = None
        self._last_flush = 0.0
        self._closed = False

    def put(self, **updates: Any) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending.update(updates)
            if self._timer is None:
                delay = max(0.0, self._last_flush + self._interval - time.monotonic())
                self._timer = threading.Timer(delay, self.flush)
                self._timer.name = "pieces-widget-sync"
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Apply what is pending now (the timer calls this; tests and close() may too)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._timer = None
            self._last_flush = time.monotonic()
        if pending:
            self._apply(pending)

    def close(self) -> None:
        """Apply what is pending, then accept nothing more."""
        with self._lock:
            timer, self._timer = self._timer, None
            self._closed = True
        if timer is not None:
            timer.cancel()
        self.flush()
