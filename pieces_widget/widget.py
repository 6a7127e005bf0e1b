"""ModelManager: the anywidget. Traits hold state, custom messages carry commands, and every piece
of network work runs off the kernel's main thread; state reaches the browser through one
coalescing writer (``sync.Coalescer``), at most ~10 times a second, the final state always.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import html
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .client import PiecesClient
from .errors import PiecesConnectionError, PiecesError
from .jobs import DownloadJob
from .models import COMPLETED, Model, readable_bytes
from .sync import Coalescer

log = logging.getLogger("pieces_widget.widget")
STATIC = Path(__file__).parent / "static"
ACTIONS = frozenset({"download", "cancel", "load", "unload", "refresh", "details", "update"})


class ModelManager(anywidget.AnyWidget):
    """Manage the local AI models of Pieces OS from a notebook cell."""

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    downloads = traitlets.Dict().tag(sync=True)
    connection = traitlets.Dict().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    _busy = traitlets.Dict().tag(sync=True)  # model id -> "loading" | "unloading" | "saving"
    _row_errors = traitlets.Dict().tag(sync=True)  # model id -> message
    _details = traitlets.Dict().tag(sync=True)  # model id -> snapshot JSON

    def __init__(
        self, client: PiecesClient | None = None, base_url: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.client = client or PiecesClient(base_url)
        self._jobs: dict[str, DownloadJob] = {}
        self._lock = threading.Lock()
        # What the writer will send: row dicts by trait name, and the model list.
        self._rows: dict[str, dict[str, Any]] = {
            name: {} for name in ("downloads", "_busy", "_row_errors", "_details")
        }
        self._models: list[dict[str, Any]] = []
        self._closed = False
        self._sync = Coalescer(self._apply)
        self.connection = {"state": "connecting", "base_url": "", "version": "", "message": ""}
        self.on_msg(self._on_command)
        self.refresh()

    # -- the one writer ----------------------------------------------------------------------
    def _apply(self, updates: dict[str, Any]) -> None:
        if self._closed and self.comm is None:
            return
        with self.hold_sync():
            for name, value in updates.items():
                setattr(self, name, value)

    def _put_row(self, trait: str, model_id: str, value: Any) -> None:
        """Set (or with None, drop) one model's entry of a dict trait, through the writer."""
        with self._lock:
            rows = dict(self._rows[trait])
            if value is None:
                rows.pop(model_id, None)
            else:
                rows[model_id] = value
            self._rows[trait] = rows
        self._sync.put(**{trait: rows})

    def _put_model(self, model: Model) -> None:
        with self._lock:
            models = list(self._models)
            for index, existing in enumerate(models):
                if existing.get("id") == model.id:
                    models[index] = model.raw
                    break
            else:
                models.append(model.raw)
            self._models = models
        self._sync.put(models=models)

    # -- background work ---------------------------------------------------------------------
    def _background(
        self, work: Callable[[], Any], model_id: str | None = None
    ) -> concurrent.futures.Future[Any]:
        """Run ``work`` in a short-lived thread; its PiecesError shows in the row or banner."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(work())
            except PiecesError as exc:
                self._report(str(exc), model_id)
                future.set_exception(exc)
            except Exception as exc:
                log.exception("widget action failed")
                self._report(f"unexpected error: {exc}", model_id)
                future.set_exception(exc)

        threading.Thread(target=run, name="pieces-widget-action", daemon=True).start()
        return future

    def _report(self, message: str, model_id: str | None) -> None:
        self._sync.put(error=message)
        if model_id is not None:
            self._put_row("_row_errors", model_id, message)

    # -- public API --------------------------------------------------------------------------
    def refresh(self) -> concurrent.futures.Future[list[Model]]:
        """Reload the model list (and reconnect) in the background."""
        return self._background(self._refresh)

    def _refresh(self) -> list[Model]:
        self._sync.put(connection={**self.connection, "state": "connecting", "message": ""})
        try:
            version = self.client.version()
            models = self.client.models()
        except PiecesConnectionError as exc:
            self._sync.put(connection=self._connection("unreachable", str(exc)))
            raise
        except PiecesError as exc:
            self._sync.put(connection=self._connection("error", str(exc)))
            raise
        with self._lock:
            self._models = [m.raw for m in models]
        self._sync.put(
            models=self._models,
            connection=self._connection("connected", "", version),
            error="",
        )
        for model in models:
            if model.downloading:
                self._start_job(model.id, attach_only=True)  # re-attach to downloads in flight
        return models

    def _connection(self, state: str, message: str, version: str = "") -> dict[str, str]:
        try:
            base_url = self.client.base_url
        except PiecesError:
            base_url = ""
        return {"state": state, "base_url": base_url, "version": version, "message": message}

    def _start_job(self, model_id: str, attach_only: bool = False) -> DownloadJob:
        with self._lock:
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                return job
            job = DownloadJob(
                self.client, model_id, on_update=self._on_job_update, attach_only=attach_only
            )
            self._jobs[model_id] = job
        self._put_row("_row_errors", model_id, None)
        return job

    def _on_job_update(self, job: DownloadJob) -> None:
        self._put_row("downloads", job.model_id, job.snapshot())
        if job.done:
            if job.error:
                self._put_row("_row_errors", job.model_id, job.error)
            self._background(lambda: self._put_model(self.client.model(job.model_id)), job.model_id)

    def download(self, model_id: str) -> DownloadJob:
        """Start (or join) the download of ``model_id``; returns at once."""
        return self._start_job(model_id)

    def cancel(self, model_id: str) -> concurrent.futures.Future[None]:
        def work() -> None:
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                job.cancel()
            else:
                self._put_model(self.client.cancel_download(model_id))

        return self._background(work, model_id)

    def _model_action(
        self, model_id: str, busy: str, call: Callable[[str], Model]
    ) -> concurrent.futures.Future[Model]:
        def work() -> Model:
            self._put_row("_busy", model_id, busy)
            self._put_row("_row_errors", model_id, None)
            try:
                model = call(model_id)
            except PiecesError:
                with contextlib.suppress(PiecesError):  # show what the server has now
                    self._put_model(self.client.model(model_id))
                raise
            finally:
                self._put_row("_busy", model_id, None)
            self._put_model(model)
            return model

        return self._background(work, model_id)

    def load(self, model_id: str) -> concurrent.futures.Future[Model]:
        """Load into memory in the background; the returned future holds the Model."""
        return self._model_action(model_id, "loading", self.client.load)

    def unload(self, model_id: str) -> concurrent.futures.Future[Model]:
        return self._model_action(model_id, "unloading", self.client.unload)

    def update_model(self, model_id: str, **fields: Any) -> concurrent.futures.Future[Model]:
        """Edit a custom model (the whole Model is sent, with ``fields`` merged in)."""
        return self._model_action(
            model_id, "saving", lambda i: self.client.update({"id": i, **fields})
        )

    def details(self, model_id: str) -> concurrent.futures.Future[Model]:
        def work() -> Model:
            model = self.client.model(model_id)
            self._put_row("_details", model_id, model.raw)
            return model

        return self._background(work, model_id)

    def ensure(
        self, model_ids: str | Iterable[str], load: bool = False, timeout: float | None = None
    ) -> list[Model]:
        """Download what is missing, wait, and load if asked; idempotent. Blocks until done."""
        ids = [model_ids] if isinstance(model_ids, str) else list(model_ids)
        jobs = [self.download(i) for i in ids if not self.client.model(i).downloaded]
        failed = []
        for job in jobs:
            status = job.wait(timeout)
            if status != COMPLETED:
                failed.append(f"{job.model_id}: {status}{f' ({job.error})' if job.error else ''}")
        if failed:
            raise PiecesError("ensure failed for " + "; ".join(failed))
        models = [self.client.load(i) if load else self.client.model(i) for i in ids]
        for model in models:
            self._put_model(model)
        return models

    def close(self) -> None:
        """Stop every thread and socket this manager started, then close the widget."""
        self._closed = True
        for job in list(self._jobs.values()):
            job.stop()
        self._sync.close()
        super().close()

    # -- commands from the front end ---------------------------------------------------------
    def _on_command(self, _: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("action") not in ACTIONS:
            return
        action, model_id = content["action"], content.get("id")
        if action == "refresh":
            self.refresh()
        elif not isinstance(model_id, str):
            return
        elif action == "download":
            self.download(model_id)
        elif action == "cancel":
            self.cancel(model_id)
        elif action == "load":
            self.load(model_id)
        elif action == "unload":
            self.unload(model_id)
        elif action == "details":
            self.details(model_id)
        elif action == "update":
            fields = {
                k: v for k, v in content.get("fields", {}).items() if k in ("name", "description")
            }
            self.update_model(model_id, **fields)

    # -- reprs for hosts without widgets -----------------------------------------------------
    def _summary(self) -> tuple[str, list[Model]]:
        models = [Model.from_json(m) for m in self.models if isinstance(m, dict) and "id" in m]
        state = self.connection.get("state", "connecting")
        where = self.connection.get("base_url") or "Pieces OS"
        downloaded = sum(m.downloaded for m in models)
        loaded = sum(m.loaded for m in models)
        head = (
            f"Pieces models at {where} ({state}): {len(models)} models, "
            f"{downloaded} downloaded, {loaded} loaded"
        )
        return head, models

    def __repr__(self) -> str:
        head, models = self._summary()
        lines = [head]
        for model in models:
            flags = [
                f for f, on in (("cloud", model.cloud), ("downloaded", model.downloaded),
                                ("loaded", model.loaded), ("custom", model.custom)) if on
            ]  # fmt: skip
            size = f" {readable_bytes(model.bytes)}" if model.bytes else ""
            lines.append(f"  {model.name} [{model.id}]{size} {' '.join(flags)}".rstrip())
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        head, models = self._summary()
        rows = "".join(
            f"<tr><td>{html.escape(m.name)}</td><td>{html.escape(m.id)}</td>"
            f"<td>{'cloud' if m.cloud else 'downloaded' if m.downloaded else 'not downloaded'}"
            f"{', loaded' if m.loaded else ''}</td></tr>"
            for m in models
        )
        data["text/plain"] = repr(self)
        data["text/html"] = (
            f'<div class="pieces-widget-static"><p>{html.escape(head)}</p>'
            f"<table><tr><th>Model</th><th>Id</th><th>State</th></tr>{rows}</table></div>"
        )
        return bundle
