"""One writer per widget: background threads hand state to ``WidgetState``, which keeps the
latest value of every synced trait and applies changes through a ``Coalescer``, at most ``rate``
times a second (Jupyter Server drops iopub messages above ~1000/s, so a flood would lose the
final 100 %). The last state handed in is always applied. One writer thread applies them: it
starts with the first update, sleeps between flushes, leaves after ``linger`` s without one (no
thread lives while idle) and is joined by ``close()``; a thread per flush cost more CPU than the
relay of five downloads' frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

LINGER = 5.0  # s the writer thread waits for the next update before it leaves


class Coalescer:
    """Merge updates ``{name: value}`` and ``apply`` them in batches, spaced ``1/rate`` s apart,
    from one writer thread."""

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], rate: float = 10.0, linger: float = LINGER
    ) -> None:
        self._apply = apply
        self._interval = 1.0 / rate
        self._linger = linger
        self._wake = threading.Condition()  # guards everything below; put() notifies the writer
        self._applying = threading.Lock()  # one apply at a time, in the order values came
        self._pending: dict[str, Any] = {}
        self._writer: threading.Thread | None = None
        self._left: threading.Thread | None = None  # the last writer that left idle
        self._last_flush = 0.0
        self._closed = False

    def put(self, **updates: Any) -> None:
        with self._wake:
            if self._closed:
                return
            waiting = not self._pending  # only then can the writer be asleep waiting for work
            self._pending.update(updates)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write, name="pieces-widget-sync", daemon=True
                )
                self._writer.start()
            elif waiting:
                self._wake.notify()

    def _write(self) -> None:
        """The writer thread: flush what is pending, at most once per interval, until closed or
        idle for ``linger`` s."""
        while True:
            with self._wake:
                idle_until = time.monotonic() + self._linger
                while not self._pending and not self._closed:
                    left = idle_until - time.monotonic()
                    if left <= 0:  # idle: leave; the next put() starts a writer again
                        self._left, self._writer = self._writer, None
                        return
                    self._wake.wait(left)
                while not self._closed:  # keep the spacing since the last flush
                    delay = self._last_flush + self._interval - time.monotonic()
                    if delay <= 0:
                        break
                    self._wake.wait(delay)
                if self._closed:
                    return  # close() applies what is pending
                if not self._pending:
                    continue  # a flush() from another thread took it meanwhile
            self.flush()

    def flush(self) -> None:
        """Apply what is pending now (the writer calls this; tests and close() may too)."""
        with self._applying:
            with self._wake:
                pending, self._pending = self._pending, {}
                self._last_flush = time.monotonic()
            if pending:
                self._apply(pending)

    def close(self) -> None:
        """Stop the writer, apply what is pending, then accept nothing more."""
        with self._wake:
            self._closed = True
            threads = (self._writer, self._left)
            self._wake.notify_all()
        for thread in threads:
            if thread is not None and thread is not threading.current_thread():
                thread.join()
        self.flush()


class WidgetState:
    """The latest value of each synced trait, as the browser will see it; every change goes
    through here. Values are replaced, never mutated, so a value handed to ``apply`` stays valid.
    A change is handed to the coalescer under the same lock that made it, so two threads' values
    reach the browser in the order they were made (the last one wins, never an older one).

    Models come from reads of the server that overlap (a list refresh, an action's answer, a
    download's last look), and an answer can land after one that is newer. So each read takes a
    ``ticket()`` just before its request is sent, and a model's value is replaced only by one
    from a read with a later ticket: a read sent after another's answer arrived has seen the
    server at least as new. A write's answer (load, update, ...) takes its ticket when it
    arrives: a read sent while the write was on its way may have been answered before it. Per
    model, not per list: a refresh never undoes a newer answer for one model, and a single
    model's answer never holds back the rest of a newer list. So when an action's future
    resolves, what it did is in ``models``.
    """

    def __init__(
        self,
        initial: dict[str, Any],
        apply: Callable[[dict[str, Any]], None],
        rate: float = 10.0,
        linger: float = LINGER,
    ) -> None:
        self._values = dict(initial)
        self._lock = threading.Lock()
        self._coalescer = Coalescer(apply, rate, linger)
        self._clock = 0
        self._seen: dict[str, int] = {}  # model id -> ticket of its value (kept after a removal)

    def ticket(self) -> int:
        """A read's place in time: take it just before its request is sent."""
        with self._lock:
            self._clock += 1
            return self._clock

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

    def _newer(self, model_id: Any, ticket: int) -> bool:
        """Whether a read with ``ticket`` is newer than what ``models`` has for ``model_id``
        (and if so, it is now what the model's value comes from); the caller holds ``_lock``."""
        if ticket < self._seen.get(model_id, 0):
            return False
        self._seen[model_id] = ticket
        return True

    def set_models(self, models: list[dict[str, Any]], ticket: int) -> None:
        """The whole list from a read with ``ticket``: each model in it replaces an older value;
        a model it lacks is dropped unless a newer read brought it (a model added meanwhile)."""
        with self._lock:
            current = {m.get("id"): m for m in self._values["models"]}
            merged = []
            for model in models:
                if self._newer(model.get("id"), ticket):
                    merged.append(model)
                elif model.get("id") in current:
                    merged.append(current[model.get("id")])
                # else a newer read found it removed: it stays removed
            listed = {m.get("id") for m in models}
            for model_id, model in current.items():
                if model_id not in listed and not self._newer(model_id, ticket):
                    merged.append(model)  # a newer read brought it (added meanwhile)
            if merged != self._values["models"]:
                self._put("models", merged)

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

    def put_model(self, model: dict[str, Any], ticket: int) -> None:
        """One model from a read with ``ticket``: replaces an older value with the same id, or is
        appended; a value from a newer read stays."""
        with self._lock:
            if not self._newer(model.get("id"), ticket):
                return
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

    def drop_model(self, model_id: str, ticket: int) -> None:
        """The model is gone, as a read (or removal) with ``ticket`` found."""
        with self._lock:
            if not self._newer(model_id, ticket):
                return
            models = [m for m in self._values["models"] if m.get("id") != model_id]
            if len(models) != len(self._values["models"]):
                self._put("models", models)

    def flush(self) -> None:
        self._coalescer.flush()

    def close(self) -> None:
        self._coalescer.close()
