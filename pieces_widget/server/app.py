"""The Pieces-OS-compatible HTTP and WebSocket API of the reference server (aiohttp).

Model routes are dispatched from the raw request path, segment by segment, so an id holding
``/``, ``%``, ``..`` or NUL is always just an id: unknown ids are 410 on every route.
Everything that changes one model (download start, load, unload, delete) runs under that
model's lock, so any interleaving of requests leaves it in a state the next request can use.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import uuid
from collections import defaultdict
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .._version import __version__
from ..core.models import FAILED
from .bodies import BodyProblem, parse_body
from .catalog import SCHEMA, CatalogEntry, Source, byte_descriptor
from .custom import MAX_CUSTOM_MODELS, parse_seed
from .diskspace import space_refusal
from .fields import MAX_BODY, FieldError, editable_fields
from .guard import AccessPolicy, guard_middleware
from .habits import POS_VERSION as POS_VERSION  # re-exported: the default version
from .habits import Habits
from .hub import hub_routes
from .memory import LoadAborted, LoadedWeights
from .ollama import MISSING, OllamaOptions, OllamaRuntime
from .ollama_api import ollama_routes
from .progress_ws import progress_socket
from .sources import SourceError, SourceOptions, disk_error
from .store import ModelStore
from .transfer import Transfer
from .transfers import Transfers

log = logging.getLogger("pieces_widget.server")
SERVER_NAME = "pieces-widget-reference"


def text_error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message, content_type="text/plain")


class ModelGone(Exception):
    """The model was deleted while a request waited for its lock."""


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.response = text_error(status, message)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, at most ``MAX_BODY`` bytes (``BodyError`` otherwise)."""
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise BodyError(400, f"the body is too large: {len(raw)} bytes, at most {MAX_BODY}")
    try:
        return parse_body(raw)
    except BodyProblem as exc:
        raise BodyError(400, str(exc)) from None


class ModelServer:
    """State shared by the handlers: catalog, store, transfers, loaded weights."""

    def __init__(
        self,
        store: ModelStore,
        options: SourceOptions,
        habits: Habits | None = None,
        ollama: OllamaOptions | None = None,
    ) -> None:
        self.store = store
        self.habits = habits = habits or Habits()
        self.transfers = Transfers(options, on_done=self._transfer_done, habits=habits)
        self.ollama = OllamaRuntime(store.data_dir, ollama or OllamaOptions(), options)
        self.loaded: dict[str, LoadedWeights] = {}
        self.errors: dict[str, str] = {}  # model id -> why its last download failed
        self.health_id = str(uuid.uuid4())
        self.applications: dict[str, str] = {}  # id -> name, from POST /connect
        self.closing = asyncio.Event()
        self._stop_loads = threading.Event()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def catalog(self) -> dict[str, CatalogEntry]:
        return self.store.catalog

    def model_json(self, model_id: str) -> dict[str, Any]:
        model = self.store.metadata(model_id)
        # One source of truth for both flags: the weights are renamed into place a moment
        # before the transfer ends, and until it has ended the model is not downloaded yet.
        transfer = self.transfers.active(model_id)
        model["downloading"] = transfer is not None and not transfer.pending
        model["downloaded"] = downloaded = transfer is None and self.store.is_downloaded(model_id)
        weights = self.loaded.get(model_id)
        model["loaded"] = weights is not None
        if weights is not None:
            model["ram"] = byte_descriptor(weights.size)
        if model_id in self.errors:
            model["error"] = self.errors[model_id]
        if (
            not downloaded
            and self.catalog[model_id].source is not None
            and not self.habits.cancel_discards  # Pieces OS's older stack kept no partial
        ):
            partial = self.store.partial_bytes(model_id)
            if partial is not None:
                model["partialBytes"] = partial
        return model

    @asynccontextmanager
    async def _model_lock(self, model_id: str) -> Any:
        """Hold the model's lock; ``ModelGone`` if the model went away while we waited."""
        async with self._locks[model_id]:
            if model_id not in self.catalog:
                raise ModelGone(model_id)
            yield

    def _transfer_done(self, transfer: Transfer) -> None:
        if transfer.status == FAILED and transfer.error:
            self.errors[transfer.model_id] = transfer.error
        if transfer.digest is not None and transfer.model_id in self.catalog:
            self.store.record_digest(transfer.model_id, transfer.digest)  # saved in the background

    # -- routes -----------------------------------------------------------------------------
    async def health(self, _: web.Request) -> web.Response:
        return web.Response(text=f"ok:{self.health_id}")

    async def version(self, _: web.Request) -> web.Response:
        return web.Response(text=self.habits.version)

    async def capabilities(self, _: web.Request) -> web.Response:
        """What this server offers beyond Pieces OS (the widget shows Add model from this)."""
        usage = shutil.disk_usage(self.store.data_dir)
        return web.json_response(
            {
                "server": SERVER_NAME,
                "version": __version__,
                "sources": True,
                "disk": {"free": usage.free, "total": usage.total},
            }
        )

    async def connect(self, request: web.Request) -> web.Response:
        """A minimal ``POST /connect``: registers the application and returns its id."""
        try:
            body = await read_json(request)
            app = body["application"]
            name = app["name"]
        except BodyError as exc:
            return exc.response
        except (KeyError, TypeError):
            return text_error(
                400, "the body must be a SeededConnectorConnection with an application"
            )
        app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.health_id}/{name}"))
        self.applications[app_id] = str(name)
        application = {
            "id": app_id,
            "name": name,
            "version": str(app.get("version", "")),
            "platform": app.get("platform", "LINUX"),
            "onboarded": True,
            "privacy": "OPEN",
            "capabilities": "LOCAL",
            "mechanism": "MANUAL",
        }
        return web.json_response(
            {"application": application, "health": {"os": {"id": self.health_id}}}
        )

    async def models(self, _: web.Request) -> web.Response:
        return web.json_response(
            {"iterable": [self.model_json(i) for i in self.catalog], "schema": SCHEMA}
        )

    async def unload_all(self, _: web.Request) -> web.Response:
        for model_id in list(self.loaded):
            await self._unload(model_id)
        return web.Response(status=204)

    async def dispatch_model(self, request: web.Request) -> web.StreamResponse:
        """``/model/{id}[/action...]`` and ``POST /model/update``."""
        segments = _raw_segments(request)[1:]  # drop "model"
        if segments == ["update"] and request.method == "POST":
            return await self.update(request)
        if not segments or not segments[0]:
            return text_error(404, "no model id in the path")
        model_id, action = segments[0], "/".join(segments[1:])
        if model_id not in self.catalog:
            return _not_found(model_id)
        handler = {
            ("GET", ""): self.snapshot,
            ("POST", "download"): self.download,
            ("POST", "download/cancel"): self.cancel,
            ("GET", "download/progress"): self.progress,
            ("POST", "load"): self.load,
            ("POST", "unload"): self.unload,
        }.get((request.method, action))
        if handler is None:
            return text_error(404 if action else 405, f"no {request.method} /model/{{id}}/{action}")
        try:
            return await handler(request, model_id)
        except ModelGone:  # deleted while this request waited for the model's lock
            return _not_found(model_id)

    async def dispatch_models(self, request: web.Request) -> web.StreamResponse:
        """``POST /models/create``, ``/models/{id}/delete`` and ``/models/{id}/delete/cache``."""
        segments = _raw_segments(request)[1:]
        if segments == ["create"]:
            return await self.create(request) if request.method == "POST" else _use_post()
        if len(segments) not in (2, 3) or segments[1:] not in (["delete"], ["delete", "cache"]):
            return text_error(404, "not found")
        model_id = segments[0]
        if model_id not in self.catalog:
            return _not_found(model_id)
        if request.method != "POST":
            return _use_post()
        try:
            if len(segments) == 3:
                return await self.delete_cache(model_id)
            return await self.delete_model(model_id)
        except ModelGone:
            return _not_found(model_id)

    async def snapshot(self, _: web.Request, model_id: str) -> web.Response:
        return web.json_response(self.model_json(model_id))

    async def download(self, _: web.Request, model_id: str) -> web.Response:
        source = self.catalog[model_id].source
        if source is None:
            return text_error(
                500, f"{model_id!r} is a cloud model: cloud models are not downloaded"
            )
        if not self.ollama.installed:
            return text_error(500, MISSING)
        async with self._model_lock(model_id):
            if not self.store.is_downloaded(model_id) and not self.transfers.active(model_id):
                refusal = space_refusal(self.store, self.transfers, model_id, source)
                if refusal is not None:
                    return text_error(500, refusal)
                self.errors.pop(model_id, None)
                self.transfers.start(
                    model_id,
                    source,
                    self.store.part_path(model_id),
                    self.store.weights_path(model_id),
                )
        return web.json_response(self.model_json(model_id))

    async def cancel(self, _: web.Request, model_id: str) -> web.Response:
        await self.transfers.cancel(model_id)
        return web.json_response(self.model_json(model_id))

    async def progress(self, request: web.Request, model_id: str) -> web.StreamResponse:
        return await progress_socket(request, self.transfers, model_id, self.closing, self.habits)

    async def load(self, _: web.Request, model_id: str) -> web.Response:
        if self.catalog[model_id].source is None:
            return text_error(500, f"{model_id!r} is a cloud model: it runs in the cloud, not here")
        if not self.ollama.installed:
            return text_error(500, MISSING)
        async with self._model_lock(model_id):
            if model_id not in self.loaded:
                if not self.store.is_downloaded(model_id):
                    return text_error(500, f"{model_id!r} is not downloaded: download it first")
                path = self.store.weights_path(model_id)
                try:
                    weights = await asyncio.get_running_loop().run_in_executor(
                        None, LoadedWeights, path, self._stop_loads
                    )
                except OSError as exc:
                    reason = disk_error(exc, "the weights")
                    return text_error(500, f"cannot load {model_id!r}: {reason}")
                except LoadAborted:
                    return text_error(503, "the server is stopping")
                self.loaded[model_id] = weights
        return web.json_response(self.model_json(model_id))

    async def unload(self, _: web.Request, model_id: str) -> web.Response:
        await self._unload(model_id)
        return web.json_response(self.model_json(model_id))

    async def _unload(self, model_id: str) -> None:
        async with self._locks[model_id]:
            self._drop_weights(model_id)

    def _drop_weights(self, model_id: str) -> None:
        weights = self.loaded.pop(model_id, None)
        if weights is not None:
            weights.close()

    async def delete_cache(self, model_id: str) -> web.Response:
        """Free the model's disk: a download in flight is canceled first, a load unloaded."""
        async with self._model_lock(model_id):
            await self.transfers.cancel(model_id)
            self._drop_weights(model_id)
            try:
                self.store.delete_weights(model_id)
            except OSError as exc:
                reason = _disk_reason(exc, self.store)
                return text_error(500, f"cannot delete the weights of {model_id!r}: {reason}")
        return web.json_response({"model": {"id": model_id, "schema": SCHEMA}, "schema": SCHEMA})

    async def delete_model(self, model_id: str) -> web.Response:
        """Forget a custom model: cancel, unload, delete its files and its record."""
        if self.store.metadata(model_id).get("custom") is not True:
            return text_error(
                500,
                f"{model_id!r} is not a custom model: only custom models can be deleted "
                f"(POST /models/{{id}}/delete/cache frees its disk space)",
            )
        async with self._model_lock(model_id):
            await self.transfers.cancel(model_id)
            self._drop_weights(model_id)
            try:
                await self.store.remove(model_id)
            except OSError as exc:
                reason = _disk_reason(exc, self.store)
                return text_error(500, f"cannot delete {model_id!r}: {reason}")
            self.errors.pop(model_id, None)
            self.transfers.forget(model_id)
        self._locks.pop(model_id, None)
        return web.Response(status=204)

    async def update(self, request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
        except BodyError as exc:
            return exc.response
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return text_error(400, "the body must be a Model: a JSON object with a string 'id'")
        model_id = body["id"]
        if model_id not in self.catalog:
            return _not_found(model_id)
        if self.store.metadata(model_id).get("custom") is not True:
            return text_error(
                500, f"{model_id!r} is not a custom model: only custom models can be updated"
            )
        try:
            fields = editable_fields(body)
        except FieldError as exc:
            return text_error(400, str(exc))
        try:
            async with self._model_lock(model_id):  # not deleted while the change is saved
                await self.store.save_edits(model_id, fields)
                return web.json_response(self.model_json(model_id))
        except ModelGone:
            return _not_found(model_id)
        except OSError as exc:
            return text_error(500, f"cannot save the change: {_disk_reason(exc, self.store)}")

    async def create(self, request: web.Request) -> web.Response:
        """``POST /models/create``: a custom model from a SeededModel (+ ``source``)."""
        try:
            seed = parse_seed(await read_json(request))
        except BodyError as exc:
            return exc.response
        except FieldError as exc:
            return text_error(400, str(exc))
        if (refused := self._refusal(seed.model)) is not None:
            return refused
        size = seed.bytes
        if seed.url is not None and size is None:
            try:
                size = await self.transfers.probe_size(seed.url)
            except SourceError as exc:
                return text_error(500, f"cannot add the model: {exc}")
        if (refused := self._refusal(seed.model)) is not None:  # others made while we asked
            return refused
        model_id = str(uuid.uuid4())
        source = None if seed.url is None or size is None else Source(seed.url, seed.sha256, size)
        try:
            await self.store.add_created(model_id, seed.model, source)
        except FieldError as exc:
            return text_error(500, f"cannot add the model: {exc}")
        except OSError as exc:
            return text_error(500, f"cannot save the model: {_disk_reason(exc, self.store)}")
        if model_id not in self.catalog:  # deleted as soon as it was listed
            return _not_found(model_id)
        return web.json_response(self.model_json(model_id))

    def _refusal(self, model: dict[str, Any]) -> web.Response | None:
        """Why ``model`` cannot be added now (the cap, a duplicate), or None."""
        if sum(entry.created for entry in self.catalog.values()) >= MAX_CUSTOM_MODELS:
            return text_error(500, f"too many custom models: at most {MAX_CUSTOM_MODELS}")
        return self._duplicate(model)

    def _duplicate(self, model: dict[str, Any]) -> web.Response | None:
        """A model of the same name (or the same ``unique``) already exists: a clear 500."""
        name = model["name"].strip().casefold()
        unique = model.get("unique")
        for model_id in self.catalog:
            other = self.store.metadata(model_id)
            if str(other.get("name", "")).strip().casefold() == name or (
                unique is not None and other.get("unique") == unique
            ):
                return text_error(
                    500,
                    f"duplicate model: {other.get('name')!r} already exists (id {model_id!r})",
                )
        return None

    async def close(self, _: web.Application | None = None) -> None:
        """Stop everything in flight (on shutdown): sockets, transfers, loads."""
        self.closing.set()
        self._stop_loads.set()
        await self.transfers.close()
        await self.ollama.close()
        for weights in self.loaded.values():
            weights.close()
        self.loaded.clear()
        await self.store.close()


def _raw_segments(request: web.Request) -> list[str]:
    """Path segments, each percent-decoded on its own (so ``%2F`` stays inside its segment)."""
    path = request.raw_path.split("?", 1)[0]
    return [unquote(s, errors="surrogateescape") for s in path.strip("/").split("/")]


def _not_found(model_id: str) -> web.Response:
    return text_error(410, f"model {model_id!r} was not found")


def _use_post() -> web.Response:
    return text_error(405, "use POST")


def _disk_reason(exc: OSError, store: ModelStore) -> str:
    """``exc`` in plain words, naming the folder of the file that failed (else the data dir)."""
    where = Path(exc.filename).parent if isinstance(exc.filename, str) else store.data_dir
    return disk_error(exc, str(where))


def create_app(
    data_dir: Path,
    catalog: dict[str, CatalogEntry],
    hub_rate: float = 0,
    policy: AccessPolicy | None = None,
    options: SourceOptions | None = None,
    habits: Habits | None = None,
    ollama: OllamaOptions | None = None,
) -> web.Application:
    """The aiohttp application; the catalog is already loaded (see ``catalog.load_catalog``)."""
    store = ModelStore(data_dir, catalog)
    habits = habits or Habits()
    server = ModelServer(store, options or SourceOptions(), habits, ollama)
    app = web.Application(
        client_max_size=1 << 20, middlewares=[guard_middleware(policy or AccessPolicy.build())]
    )
    app["server"] = server
    app.on_shutdown.append(server.close)
    if not habits.as_pieces_os:  # Pieces OS has no such route: clients cannot tell us apart
        app.router.add_get("/.well-known/capabilities", server.capabilities)
    app.add_routes(
        [
            web.get("/.well-known/health", server.health),
            web.get("/.well-known/version", server.version),
            web.post("/connect", server.connect),
            web.get("/models", server.models),
            web.post("/models/unload", server.unload_all),
            web.route("*", "/model/{tail:.*}", server.dispatch_model),
            web.route("*", "/models/{tail:.*}", server.dispatch_models),
            *hub_routes(store.data_dir / "hub", hub_rate),
            *ollama_routes(server.ollama, server.closing),
        ]
    )
    log.debug("pieces_widget %s reference server app created", __version__)
    return app
