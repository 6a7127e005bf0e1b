"""One writer per widget: background threads hand state to ``WidgetState``, which keeps the
latest value of every synced trait and applies changes through a ``Coalescer``, at most ``rate``
times a second (Jupyter Server drops iopub messages above ~1000/s, so a flood would lose the
final 100 %). The last state handed in is always applied; no thread lives while idle.
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
        self._applying = threading.Lock()  # one apply at a time, in the order values came
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
        with self._applying:
            with self._lock:
                pending, self._pending = self._pending, {}
                if threading.current_thread() is self._timer:
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


class WidgetState:
    """The latest value of each synced trait, as the browser will see it; every change goes
    through here. Values are replaced, never mutated, so a value handed to ``apply`` stays valid.
    A change is handed to the coalescer under the same lock that made it, so two threads' values
    reach the browser in the order they were made (the last one wins, never an older one).
    ``generation`` counts changes to single models, so a slow list refresh can tell it is stale.
    """

    def __init__(
        self, initial: dict[str, Any], apply: Callable[[dict[str, Any]], None], rate: float = 10.0
    ) -> None:
        self._values = dict(initial)
        self._lock = threading.Lock()
        self._coalescer = Coalescer(apply, rate)
        self.generation = 0

    def get(self, name: str) -> Any:
        with self._lock:
            return self._values[name]

    def _put(self, name: str, value: Any) -> None:
        """Record and hand on one value; the caller holds ``_lock``."""
        self._values[name] = value
        self._coalescer.put(**{name: value})

    def set(self, **values: Any) -> None:
        """Set whole trait values, sending only those that changed."""
        with self._lock:
            for name, value in values.items():
                if self._values.get(name) != value:
                    self._put(name, value)

    def set_models_unless_changed(self, models: list[dict[str, Any]], since: int) -> bool:
        """Replace the list, unless a single model changed after generation ``since`` (the
        list was fetched before that change and would undo it); True when it was set."""
        with self._lock:
            if self.generation != since:
                return False
            if self._values["models"] != models:
                self._put("models", models)
            return True

    def set_entry(self, trait: str, key: str, value: Any) -> None:
        """Set (or with None, drop) one key of a dict trait."""
        with self._lock:
            entries = dict(self._values[trait])
            if value is None:
                if key not in entries:
                    return
                entries.pop(key)
            else:
                if entries.get(key) == value:
                    return
                entries[key] = value
            self._put(trait, entries)

    def put_model(self, model: dict[str, Any]) -> None:
        """Replace the model with the same id in ``models``, or append it."""
        with self._lock:
            self.generation += 1
            models = list(self._values["models"])
            for index, existing in enumerate(models):
                if existing.get("id") == model.get("id"):
                    if existing == model:
                        return
                    models[index] = model
                    break
            else:
                models.append(model)
            self._put("models", models)

    def drop_model(self, model_id: str) -> None:
        with self._lock:
            self.generation += 1
            models = [m for m in self._values["models"] if m.get("id") != model_id]
            self._put("models", models)

    def flush(self) -> None:
        self._coalescer.flush()

    def close(self) -> None:
        self._coalescer.close()
