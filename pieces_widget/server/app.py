"""The Pieces-OS-compatible HTTP and WebSocket API of the reference server (aiohttp): the route
table and its handlers. The state they share is ``model_server.ModelServer``; the custom-model
routes are in ``custom_api.py``, the Ollama ones in ``ollama_api.py``.

Model routes are dispatched from the raw request path, segment by segment, so an id holding
``/``, ``%``, ``..`` or NUL is always just an id: unknown ids are 410 on every route.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from .._version import __version__
from . import custom_api
from .catalog import SCHEMA, CatalogEntry
from .diskspace import space_refusal
from .guard import AccessPolicy, guard_middleware
from .habits import Habits
from .hub import hub_routes
from .memory import LoadAborted, LoadedWeights
from .model_server import ModelGone, ModelServer
from .ollama import MISSING, OllamaOptions
from .ollama_api import ollama_routes
from .progress_ws import progress_socket
from .replies import BodyError, disk_reason, not_found, read_json, text_error, use_post
from .sources import SourceOptions, disk_error
from .store import ModelStore

log = logging.getLogger("pieces_widget.server")
SERVER_NAME = "pieces-widget-reference"


class Routes:
    """The handlers, over one ``ModelServer``."""

    def __init__(self, server: ModelServer) -> None:
        self.server = server

    async def health(self, _: web.Request) -> web.Response:
        return web.Response(text=f"ok:{self.server.health_id}")

    async def version(self, _: web.Request) -> web.Response:
        return web.Response(text=self.server.habits.version)

    async def capabilities(self, _: web.Request) -> web.Response:
        """What this server offers beyond Pieces OS (the widget shows Add model from this)."""
        usage = shutil.disk_usage(self.server.store.data_dir)
        return web.json_response(
            {
                "server": SERVER_NAME,
                "version": __version__,
                "sources": True,
                "disk": {"free": usage.free, "total": usage.total},
            }
        )

    async def connect(self, request: web.Request) -> web.Response:
        """A minimal ``POST /connect``: the application's id (stable per name and server run);
        nothing is kept."""
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
        health_id = self.server.health_id
        app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{health_id}/{name}"))
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
        return web.json_response({"application": application, "health": {"os": {"id": health_id}}})

    async def models(self, _: web.Request) -> web.Response:
        server = self.server
        return web.json_response(
            {"iterable": [server.model_json(i) for i in server.catalog], "schema": SCHEMA}
        )

    async def unload_all(self, _: web.Request) -> web.Response:
        for model_id in list(self.server.loaded):
            await self.server.unload(model_id)
        return web.Response(status=204)

    async def dispatch_model(self, request: web.Request) -> web.StreamResponse:
        """``/model/{id}[/action...]`` and ``POST /model/update``."""
        segments = _raw_segments(request)[1:]  # drop "model"
        if segments == ["update"] and request.method == "POST":
            return await custom_api.update(self.server, request)
        if not segments or not segments[0]:
            return text_error(404, "no model id in the path")
        model_id, action = segments[0], "/".join(segments[1:])
        if model_id not in self.server.catalog:
            return not_found(model_id)
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
            return not_found(model_id)

    async def dispatch_models(self, request: web.Request) -> web.StreamResponse:
        """``POST /models/create``, ``/models/{id}/delete`` and ``/models/{id}/delete/cache``."""
        segments = _raw_segments(request)[1:]
        if segments == ["create"]:
            if request.method != "POST":
                return use_post()
            return await custom_api.create(self.server, request)
        if len(segments) not in (2, 3) or segments[1:] not in (["delete"], ["delete", "cache"]):
            return text_error(404, "not found")
        model_id = segments[0]
        if model_id not in self.server.catalog:
            return not_found(model_id)
        if request.method != "POST":
            return use_post()
        try:
            if len(segments) == 3:
                return await self.delete_cache(model_id)
            return await custom_api.delete(self.server, model_id)
        except ModelGone:
            return not_found(model_id)

    async def snapshot(self, _: web.Request, model_id: str) -> web.Response:
        return self.server.reply(model_id)

    async def download(self, _: web.Request, model_id: str) -> web.Response:
        server = self.server
        source = server.catalog[model_id].source
        if source is None:
            return text_error(
                500, f"{model_id!r} is a cloud model: cloud models are not downloaded"
            )
        if not server.ollama.installed:
            return text_error(500, MISSING)
        store, transfers = server.store, server.transfers
        async with server.model_lock(model_id):
            if not store.is_downloaded(model_id) and not transfers.active(model_id):
                refusal = space_refusal(store, transfers, model_id, source)
                if refusal is not None:
                    return text_error(500, refusal)
                server.errors.pop(model_id, None)
                part, final = store.part_path(model_id), store.weights_path(model_id)
                transfers.start(model_id, source, part, final)
        return server.reply(model_id)

    async def cancel(self, _: web.Request, model_id: str) -> web.Response:
        await self.server.transfers.cancel(model_id)
        return self.server.reply(model_id)

    async def progress(self, request: web.Request, model_id: str) -> web.StreamResponse:
        server = self.server
        return await progress_socket(
            request, server.transfers, model_id, server.closing, server.habits
        )

    async def load(self, _: web.Request, model_id: str) -> web.Response:
        server = self.server
        if server.catalog[model_id].source is None:
            return text_error(500, f"{model_id!r} is a cloud model: it runs in the cloud, not here")
        if not server.ollama.installed:
            return text_error(500, MISSING)
        async with server.model_lock(model_id):
            if model_id not in server.loaded:
                if not server.store.is_downloaded(model_id):
                    return text_error(500, f"{model_id!r} is not downloaded: download it first")
                path = server.store.weights_path(model_id)
                try:
                    weights = await asyncio.get_running_loop().run_in_executor(
                        None, LoadedWeights, path, server.stop_loads
                    )
                except OSError as exc:
                    reason = disk_error(exc, "the weights")
                    return text_error(500, f"cannot load {model_id!r}: {reason}")
                except LoadAborted:
                    return text_error(503, "the server is stopping")
                server.loaded[model_id] = weights
        return server.reply(model_id)

    async def unload(self, _: web.Request, model_id: str) -> web.Response:
        await self.server.unload(model_id)
        return self.server.reply(model_id)

    async def delete_cache(self, model_id: str) -> web.Response:
        """Free the model's disk: a download in flight is canceled first, a load unloaded."""
        server = self.server
        async with server.model_lock(model_id):
            await server.transfers.cancel(model_id)
            server.drop_weights(model_id)
            try:
                server.store.delete_weights(model_id)
            except OSError as exc:
                reason = disk_reason(exc, server.store.data_dir)
                return text_error(500, f"cannot delete the weights of {model_id!r}: {reason}")
        return web.json_response({"model": {"id": model_id, "schema": SCHEMA}, "schema": SCHEMA})


def _raw_segments(request: web.Request) -> list[str]:
    """Path segments, each percent-decoded on its own (so ``%2F`` stays inside its segment)."""
    path = request.raw_path.split("?", 1)[0]
    return [unquote(s, errors="surrogateescape") for s in path.strip("/").split("/")]


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
    routes = Routes(server)
    app = web.Application(
        client_max_size=1 << 20, middlewares=[guard_middleware(policy or AccessPolicy.build())]
    )
    app.on_shutdown.append(server.close)
    if not habits.as_pieces_os:  # Pieces OS has no such route: clients cannot tell us apart
        app.router.add_get("/.well-known/capabilities", routes.capabilities)
    app.add_routes(
        [
            web.get("/.well-known/health", routes.health),
            web.get("/.well-known/version", routes.version),
            web.post("/connect", routes.connect),
            web.get("/models", routes.models),
            web.post("/models/unload", routes.unload_all),
            web.route("*", "/model/{tail:.*}", routes.dispatch_model),
            web.route("*", "/models/{tail:.*}", routes.dispatch_models),
            *hub_routes(store.data_dir / "hub", hub_rate),
            *ollama_routes(server.ollama, server.closing),
        ]
    )
    log.debug("pieces_widget %s reference server app created", __version__)
    return app
