"""ModelManager: the anywidget. Traits hold state, custom messages carry commands (``wire.py``),
and every piece of network work runs off the kernel's main thread. Threads hand state to one
writer (``sync.WidgetState``), which reaches the browser at most ~10 times a second.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..core.client import PiecesClient
from ..core.deprecation import renamed
from ..core.errors import ModelNotFoundError, PiecesError
from ..core.jobs import DownloadJob
from ..core.models import COMPLETED, Model, check_id
from ..core.runtime import NO_API, RuntimeInstall
from ..core.summary import Summary, machine_resources, summarize
from . import reprs
from .commands import dispatch
from .sync import WidgetState
from .watch import ConnectionWatch, Ticker, connection_state
from .wire import SORT_KEYS, download_entry

log = logging.getLogger("pieces_widget.widget")
STATIC = Path(__file__).parent.parent / "static"
# Traits the Python side writes (``_view`` is the browser's: sort and grouping).
WRITTEN = ("models", "downloads", "connection", "error", "_busy", "_row_errors", "_resources",
           "_capabilities", "_add", "runtime")  # fmt: skip
ID_CHECK_WAIT = 0.5  # s download() waits for the server to say an unlisted id is unknown
MAX_WATCHERS = 4  # downloads started elsewhere followed live at once; the rest show from the list


class ModelManager(ConnectionWatch, anywidget.AnyWidget):
    """Manage the local AI models of Pieces OS from a notebook cell.

    ``ModelManager()`` discovers Pieces OS; ``ModelManager(base_url=...)`` or
    ``ModelManager(client=...)`` name it. It never raises because Pieces OS is down: the banner
    says so and a background watch (every ``watch_interval`` s) reconnects when it returns.
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The Model JSON of every model, as the server sent it (camelCase keys). Default ``[]``."""
    downloads = traitlets.Dict().tag(sync=True)
    """model id -> ``wire.DownloadEntry``: progress lives here, so a tick never re-sends models."""
    connection = traitlets.Dict().tag(sync=True)
    """``wire.Connection``: state (connected, connecting, unreachable, error), base_url,
    version, message."""
    runtime = traitlets.Dict(dict(NO_API)).tag(sync=True)
    """``runtime.RuntimeInfo``: the Ollama runtime local models need (Pieces OS 11+): state
    (installed, missing, installing, update-required, failed, none), version, percentage,
    message. ``none`` where this Pieces OS has no Ollama API."""
    error = traitlets.Unicode("").tag(sync=True)
    """The latest error message ("" when none), for code; the browser shows it in place."""
    _busy = traitlets.Dict().tag(sync=True)
    _row_errors = traitlets.Dict().tag(sync=True)
    _resources = traitlets.Dict().tag(sync=True)
    _capabilities = traitlets.Dict({"sources": False}).tag(sync=True)
    _view = traitlets.Dict({"sort": "name", "group": False}).tag(sync=True)
    _add = traitlets.Dict({"busy": False, "error": "", "added": ""}).tag(sync=True)

    def __init__(
        self,
        client: PiecesClient | None = None,
        base_url: str | None = None,
        *,
        watch_interval: float | None = 3.0,
        first_answer_timeout: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._owns_client = client is None
        self.client = client or PiecesClient(base_url)
        self._jobs: dict[str, DownloadJob] = {}
        self._jobs_lock = threading.Lock()
        self._quiet: set[DownloadJob] = set()  # jobs whose "unknown id" download() will raise
        self._threads: set[threading.Thread] = set()  # short-lived threads this manager runs
        self._last_capabilities: dict[str, Any] = {}  # for summary(): the last answer's disk
        self._capabilities_pending = False
        self._closed = False
        self._watch_interval = watch_interval
        self._watch: Ticker | None = None
        self._views: set[str] = set()  # views on the page now: the health watch runs for them
        self._install: RuntimeInstall | None = None
        self.connection = connection_state("connecting", "", "", "")
        self._state = WidgetState({name: getattr(self, name) for name in WRITTEN}, self._apply)
        self.on_msg(self._on_command)
        first = self.refresh()
        # The first answer (or failure) before the cell ends, so the saved reprs are true.
        with contextlib.suppress(Exception):
            first.result(first_answer_timeout)
        self._state.flush()

    @traitlets.validate("_view")
    def _valid_view(self, proposal: dict[str, Any]) -> dict[str, Any]:
        view = proposal["value"]
        if view.get("sort") not in SORT_KEYS or not isinstance(view.get("group"), bool):
            raise traitlets.TraitError(f"_view needs sort in {SORT_KEYS} and a bool group")
        return {"sort": view["sort"], "group": view["group"]}

    # -- the one writer ----------------------------------------------------------------------
    def _apply(self, updates: dict[str, Any]) -> None:
        if self._closed and self.comm is None:
            return
        with self.hold_sync():
            for name, value in updates.items():
                setattr(self, name, value)

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

    def _show(self, read: Callable[[], Model]) -> Model:
        """Ask the server for one model and show its answer, unless a read sent later already
        showed that model (``WidgetState.ticket``)."""
        ticket = self._state.ticket()
        model = read()
        self._state.put_model(model.raw, ticket)
        return model

    def _watch_download(self, model_id: str) -> None:
        """Follow a download in flight that this manager did not start (another client, an
        earlier manager): at most ``MAX_WATCHERS`` at once, so a list of thousands downloading
        costs a few threads and sockets; the others show from the list's refreshes."""
        with self._jobs_lock:
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                return
            watching = sum(1 for j in self._jobs.values() if j.attach_only and not j.done)
            if watching >= MAX_WATCHERS:
                return
        with contextlib.suppress(RuntimeError):  # closed meanwhile: nothing to attach
            self._start_job(model_id, attach_only=True)

    # -- downloads ---------------------------------------------------------------------------
    def _start_job(self, model_id: str, attach_only: bool = False) -> DownloadJob:
        with self._jobs_lock:
            self._ensure_open()
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                return job
            self._state.set_entry("_row_errors", model_id, None)
            job = DownloadJob(
                self.client, model_id, on_update=self._on_job_update, attach_only=attach_only
            )
            self._jobs[model_id] = job
        return job

    def _on_job_update(self, job: DownloadJob) -> None:
        if self._closed or job.found_nothing or self._jobs.get(job.model_id) is not job:
            return  # a stale job (its model removed, a newer job started) says nothing
        if job.unknown and job in self._quiet:
            return  # download() is about to raise ModelNotFoundError for it
        self._state.set_entry("downloads", job.model_id, download_entry(job))
        if job.done:
            if job.error:
                self._state.set(error=job.error)
            self._spawn(lambda: self._refetch(job.model_id))

    def _refetch(self, model_id: str) -> None:
        """The model as the server has it now (after a download ended)."""
        with contextlib.suppress(PiecesError):  # gone or unreachable: the watch tells
            self._show(lambda: self.client.snapshot(model_id))

    def download(self, model_id: str) -> DownloadJob:
        """Start (or join) the download of ``model_id``; returns at once.

        For an id the list does not show, the server is asked: ``ModelNotFoundError`` when it
        says within ``ID_CHECK_WAIT`` s that it does not know the id, else the job reports it."""
        self._ensure_open()
        check_id(model_id)
        if any(m.get("id") == model_id for m in self._state.get("models")):
            return self._start_job(model_id)
        job = self._start_job(model_id)
        with self._jobs_lock:
            self._quiet.add(job)
        job.checked.wait(ID_CHECK_WAIT)  # the job asks the server; never longer than this
        with self._jobs_lock:
            self._quiet.discard(job)
            unknown = job.unknown
            if unknown and self._jobs.get(model_id) is job:
                del self._jobs[model_id]
        if unknown:
            raise ModelNotFoundError(model_id)
        if job.unknown and job.done:  # the answer came just after the wait: the job says it
            self._on_job_update(job)
        return job

    def cancel(self, model_id: str) -> concurrent.futures.Future[None]:
        """Ask the server to stop the download; the row then offers Download (or Resume)."""
        check_id(model_id)

        def work() -> None:
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                job.cancel()
            else:
                self._show(lambda: self.client.cancel_download(model_id))

        return self._background(work, model_id)

    # -- other actions -----------------------------------------------------------------------
    def _model_action(
        self, model_id: str, busy: str, call: Callable[[str], Model]
    ) -> concurrent.futures.Future[Model]:
        check_id(model_id)

        return self._background(lambda: self._show(lambda: call(model_id)), model_id, busy)

    def load(self, model_id: str) -> concurrent.futures.Future[Model]:
        """Load into memory in the background; the returned future holds the Model."""
        return self._model_action(model_id, "loading", self.client.load)

    def unload(self, model_id: str) -> concurrent.futures.Future[Model]:
        return self._model_action(model_id, "unloading", self.client.unload)

    def snapshot(self, model_id: str) -> concurrent.futures.Future[Model]:
        """Fetch the model's snapshot (``GET /model/{id}``) into the list."""
        return self._model_action(model_id, "", self.client.snapshot)

    def update_model(self, model_id: str, **fields: Any) -> concurrent.futures.Future[Model]:
        """Edit a custom model (the whole Model is sent, with ``fields`` merged in)."""
        return self._model_action(
            model_id, "saving", lambda i: self.client.update({"id": i, **fields})
        )

    def delete(self, model_id: str) -> concurrent.futures.Future[Model]:
        """Delete the model's weights from disk (unloading it first; a download in flight is
        canceled by the server)."""

        def delete(i: str) -> Model:
            self.client.delete(i)
            self._state.set_entry("downloads", i, None)
            return self.client.snapshot(i)

        return self._model_action(model_id, "deleting", delete)

    def remove(self, model_id: str) -> concurrent.futures.Future[None]:
        """Remove a custom model (``POST /models/{id}/delete``)."""
        check_id(model_id)

        def work() -> None:
            with self._jobs_lock:
                job = self._jobs.pop(model_id, None)
            if job is not None:
                job.stop()  # the server cancels the download; its job has nothing more to say
            ticket = self._state.ticket()
            self.client.remove(model_id)
            self._state.drop_model(model_id, ticket)
            for trait in ("downloads", "_row_errors"):
                self._state.set_entry(trait, model_id, None)

        return self._background(work, model_id, "removing")

    def unload_all(self) -> concurrent.futures.Future[list[Model]]:
        """Unload every loaded model, then reload the list."""

        def work() -> list[Model]:
            self.client.unload_all()
            return self._refresh()

        return self._background(work)

    def add_model(
        self, name: str, url: str, sha256: str | None = None, **fields: Any
    ) -> concurrent.futures.Future[Model]:
        """Add a custom model whose weights are at ``url`` (servers that accept sources)."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a model needs a name")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"the model's URL must be http(s)://..., got {url!r}")
        source = {"url": url, **({"sha256": sha256} if sha256 else {})}

        def work() -> Model:
            self._set_add(busy=True)
            ticket = self._state.ticket()
            try:
                model = self.client.create_model({"name": name.strip(), "source": source, **fields})
            except Exception as exc:
                self._set_add(error=str(exc))
                raise
            # ``added`` changes, so the browser sees the end even when busy was coalesced away
            self._set_add(added=model.id)
            self._state.put_model(model.raw, ticket)
            return model

        return self._background(work)

    def _set_add(self, busy: bool = False, error: str = "", added: str | None = None) -> None:
        """The Add model form's state; ``added`` (the last added id) is kept unless given."""
        last = self._state.get("_add")["added"] if added is None else added
        self._state.set(_add={"busy": busy, "error": error, "added": last})

    def summary(self) -> Summary:
        """On-device count and bytes, loaded count and RAM, free disk and available memory.

        Never waits on Pieces OS: the models and free disk are the last figures it sent (memory
        is this machine's, now); a fresh disk figure is asked for in the background."""
        models = [Model.from_json(m) for m in self._state.get("models")]
        resources = machine_resources(self._last_capabilities)
        if not self._closed and not self._capabilities_pending:
            self._capabilities_pending = True
            self._spawn(self._refresh_capabilities)
        return summarize(models, resources)

    def _refresh_capabilities(self) -> None:
        try:
            self._last_capabilities = self.client.capabilities()
            self._state.set(_resources=machine_resources(self._last_capabilities))
        except PiecesError as exc:  # the banner and the watch say what is wrong
            log.info("capabilities: %s", exc)
        finally:
            self._capabilities_pending = False

    def ensure(
        self, model_ids: str | Iterable[str], load: bool = False, timeout: float | None = None
    ) -> list[Model]:
        """Download what is missing, wait, and load if asked; idempotent. Blocks until done."""
        ids = [check_id(model_ids)] if isinstance(model_ids, str) else list(model_ids)
        jobs = [self.download(i) for i in ids if not self.client.snapshot(i).downloaded]
        failed = []
        for job in jobs:
            status = job.wait(timeout)
            if status != COMPLETED:
                failed.append(f"{job.model_id}: {status}{f' ({job.error})' if job.error else ''}")
        if failed:
            raise PiecesError("ensure failed for " + "; ".join(failed))
        read = self.client.load if load else self.client.snapshot
        models = [self._show(lambda i=i: read(i)) for i in ids]
        self._state.flush()  # what ensure did is in the traits when it returns
        return models

    def close(self, timeout: float = 2.0) -> None:
        """Stop every thread and socket this manager started, then close the widget. Calls in
        flight are cut, so this returns within ``timeout`` s even while Pieces OS hangs."""
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
        self._state.close()
        super().close()
        _forget_file_watch(self)

    remove_model = renamed("remove_model", "remove")  # the old names, for one release
    details = renamed("details", "snapshot")

    def _on_command(self, _: Any, content: Any, buffers: Any) -> None:
        """A message from the browser (``commands.TABLE`` says which method it calls)."""
        dispatch(self, content)

    def _install_runtime_in_background(self) -> None:
        """The Install Ollama button: the request runs off the kernel's main thread."""
        self._background(self.install_runtime)

    # -- reprs for hosts without widgets -----------------------------------------------------
    def __repr__(self) -> str:
        return reprs.text_repr(self._state.get("models"), self._state.get("connection"))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        models, connection = self._state.get("models"), self._state.get("connection")
        data["text/plain"] = reprs.text_repr(models, connection)
        data["text/html"] = reprs.html_repr(models, connection)
        return bundle


def _forget_file_watch(widget: anywidget.AnyWidget) -> None:
    """anywidget connects a lambda holding each instance to the class's ``_esm``/``_css`` file
    signal and never disconnects it, so no widget is ever collected (anywidget#929). Drop ours."""
    signals = [
        klass.__dict__[key].changed
        for klass in type(widget).__mro__  # add_traits put a subclass in front of ours
        for key in ("_esm", "_css")
        if hasattr(klass.__dict__.get(key), "changed")
    ]
    for changed in signals:
        for slot in list(getattr(changed, "_slots", [])):
            func = getattr(slot, "dereference", lambda: None)()
            cells = getattr(func, "__closure__", None) or ()
            if any(getattr(cell, "cell_contents", None) is widget for cell in cells):
                changed.disconnect(func)  # type: ignore[union-attr]
