"""The manager's threads: network work off the kernel's main thread, all cut by ``close``."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.errors import PiecesError

if TYPE_CHECKING:
    from ..core.client import PiecesClient
    from ..core.jobs import DownloadJob
    from ..core.models import Model
    from ..core.runtime import RuntimeInstall
    from .sync import WidgetState

log = logging.getLogger("pieces_widget.widget")
watch_log = logging.getLogger("pieces_widget.watch")  # the Ticker says its failures there


class Ticker:
    """A thread that calls ``check`` every ``interval`` s until stopped (then no thread at all)."""

    def __init__(self, check: Callable[[], None], interval: float, name: str) -> None:
        self._check = check
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():  # at once (a view just opened), then every interval
            try:
                self._check()
            except Exception:  # the watch must outlive any one bad answer
                watch_log.exception("connection check failed")
            if self._stop.wait(self._interval):
                return

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread; wait up to ``timeout`` s for a check in progress (0: do not wait)."""
        self._stop.set()
        if timeout and self._thread is not threading.current_thread():
            self._thread.join(timeout)


class Background:
    """The ModelManager's short-lived threads: an action's failure shown in its row, one model's
    answer shown unless a later read showed it, and every thread stopped and joined on close
    (a mixin: the state it uses is the manager's)."""

    client: PiecesClient
    _owns_client: bool
    _state: WidgetState
    _closed: bool
    _jobs: dict[str, DownloadJob]
    _jobs_lock: threading.Lock
    _threads: set[threading.Thread]
    _watch: Ticker | None
    _install: RuntimeInstall | None

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError("this ModelManager is closed: create a new one")

    def _background(
        self, work: Callable[[], Any], model_id: str | None = None, busy: str = ""
    ) -> concurrent.futures.Future[Any]:
        """Run ``work`` in a short-lived thread; a failure shows in the row (or is kept in
        ``error``) and is set on the returned future."""
        self._ensure_open()
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            if model_id is not None:
                self._state.set_entry("_row_errors", model_id, None)
                if busy:
                    self._state.set_entry("_busy", model_id, busy)
            failure: Exception | None = None
            try:
                result = work()
            except Exception as exc:
                failure = exc
                if not isinstance(exc, PiecesError):
                    log.exception("widget action failed")
                message = str(exc) if isinstance(exc, PiecesError) else f"unexpected error: {exc}"
                self._state.set(error=message)
                if model_id is not None:
                    self._state.set_entry("_row_errors", model_id, message)
                    with contextlib.suppress(Exception):  # show what the server has now
                        self._show(lambda: self.client.snapshot(model_id))
            finally:
                if model_id is not None and busy:
                    self._state.set_entry("_busy", model_id, None)
            self._state.flush()  # what the action did is in the traits when its future resolves
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(result)

        self._spawn(run)
        return future

    def _spawn(self, target: Callable[[], Any], name: str = "pieces-widget-action") -> None:
        """Run ``target`` in a thread that ``close()`` cuts and joins."""

        def run() -> None:
            try:
                target()
            finally:
                with self._jobs_lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._jobs_lock:
            self._threads.add(thread)
        thread.start()

    def _show(self, read: Callable[[], Model], writes: bool = False) -> Model:
        """Ask the server for one model and show its answer, unless a newer one was already
        shown (``WidgetState.ticket``). A read is as new as its sending: a read sent later has
        seen at least as much. A write (load, update, ...) is as new as its answer: a read sent
        while the write was on its way may have been answered from the state before it."""
        ticket = None if writes else self._state.ticket()
        model = read()
        self._state.put_model(model.raw, self._state.ticket() if ticket is None else ticket)
        return model

    def _stop_background(self, timeout: float) -> None:
        """Mark closed, cut the calls in flight, stop the watch, the jobs and the runtime install,
        and join the threads, all within ``timeout`` s even while Pieces OS hangs."""
        with self._jobs_lock:
            self._closed = True
            threads = set(self._threads)
        if self._watch is not None:
            threads.add(self._watch.thread)
            self._watch.stop(timeout=0)
        if self._owns_client:
            self.client.close()  # cuts every call in flight and closes the pooled sockets
        else:
            self.client.interrupt(threads)  # a shared client: only this manager's calls
        for job in list(self._jobs.values()):
            job.stop()
        if self._install is not None:
            self._install.stop()
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
