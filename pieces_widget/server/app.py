"""The Pieces-OS-compatible HTTP and WebSocket API of the reference server (aiohttp).

Model routes are dispatched from the raw request path, segment by segment, so an id holding
``/``, ``%``, ``..`` or NUL is always just an id: unknown ids are 410 on every route.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web

from .. import __version__
from .catalog import SCHEMA, CatalogEntry, byte_descriptor
from .hub import hub_routes
from .memory import LoadedWeights
from .store import ModelStore
from .transfers import Transfers

log = logging.getLogger("pieces_widget.server")
POS_VERSION = "11.0.0"  # the Pieces OS API generation this server follows
READ_ONLY_FIELDS = frozenset(
    {"id", "bytes", "ram", "downloaded", "downloading", "loaded", "cloud", "custom", "source"}
)
# Types of the Model fields a client may edit; anything else in the schema keeps its type too.
FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str, "description": str, "version": str, "quantization": str, "unique": str,
    "foundation": str, "provider": str, "type": str, "usage": str, "cpu": bool,
    "parameters": (int, float, type(None)), "created": dict, "maxTokens": dict,
    "capabilities": dict, "score": dict, "schema": dict,
}  # fmt: skip


def text_error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message, content_type="text/plain")


class ModelServer:
    """State shared by the handlers: catalog, store, transfers, loaded weights."""

    def __init__(self, store: ModelStore, transfers: Transfers) -> None:
        self.store = store
        self.transfers = transfers
        self.loaded: dict[str, LoadedWeights] = {}
        self.health_id = str(uuid.uuid4())
        self.applications: dict[str, str] = {}  # id -> name, from POST /connect
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def catalog(self) -> dict[str, CatalogEntry]:
        return self.store.catalog

    def model_json(self, model_id: str) -> dict[str, Any]:
        model = self.store.metadata(model_id)
        model["downloaded"] = self.store.is_downloaded(model_id)
        model["downloading"] = self.transfers.active(model_id) is not None
        weights = self.loaded.get(model_id)
        model["loaded"] = weights is not None
        if weights is not None:
            model["ram"] = byte_descriptor(weights.size)
        return model

    # -- routes -----------------------------------------------------------------------------
    async def health(self, _: web.Request) -> web.Response:
        return web.Response(text=f"ok:{self.health_id}")

    async def version(self, _: web.Request) -> web.Response:
        return web.Response(text=POS_VERSION)

    async def connect(self, request: web.Request) -> web.Response:
        """A minimal ``POST /connect``: registers the application and returns its id."""
        try:
            body = json.loads(await request.read())
            app = body["application"]
            name = app["name"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
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
            return text_error(410, f"model {model_id!r} was not found")
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
        return await handler(request, model_id)

    async def dispatch_models(self, request: web.Request) -> web.StreamResponse:
        """``POST /models/{id}/delete/cache``."""
        segments = _raw_segments(request)[1:]
        if len(segments) != 3 or segments[1:] != ["delete", "cache"]:
            return text_error(404, "not found")
        model_id = segments[0]
        if model_id not in self.catalog:
            return text_error(410, f"model {model_id!r} was not found")
        if request.method != "POST":
            return text_error(405, "use POST")
        await self.transfers.cancel(model_id)
        await self._unload(model_id)
        self.store.delete_weights(model_id)
        return web.json_response({"model": {"id": model_id, "schema": SCHEMA}, "schema": SCHEMA})

    async def snapshot(self, _: web.Request, model_id: str) -> web.Response:
        return web.json_response(self.model_json(model_id))

    async def download(self, _: web.Request, model_id: str) -> web.Response:
        entry = self.catalog[model_id]
        if entry.source is None:
            return text_error(
                500, f"{model_id!r} is a cloud model: cloud models are not downloaded"
            )
        if not self.store.is_downloaded(model_id):
            self.transfers.start(
                model_id,
                entry.source,
                self.store.part_path(model_id),
                self.store.weights_path(model_id),
            )
        return web.json_response(self.model_json(model_id))

    async def cancel(self, _: web.Request, model_id: str) -> web.Response:
        await self.transfers.cancel(model_id)
        return web.json_response(self.model_json(model_id))

    async def progress(self, request: web.Request, model_id: str) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        if not ws.can_prepare(request).ok:
            return text_error(400, "this route is a WebSocket: connect with an Upgrade request")
        await ws.prepare(request)
        reader = asyncio.ensure_future(_drain(ws))  # notices the client closing
        try:
            await _stream_progress(ws, self.transfers, model_id, reader)
        finally:
            reader.cancel()
            await ws.close()
        return ws

    async def load(self, _: web.Request, model_id: str) -> web.Response:
        if self.catalog[model_id].source is None:
            return text_error(500, f"{model_id!r} is a cloud model: it runs in the cloud, not here")
        async with self._locks[model_id]:
            if model_id not in self.loaded:
                if not self.store.is_downloaded(model_id):
                    return text_error(500, f"{model_id!r} is not downloaded: download it first")
                path = self.store.weights_path(model_id)
                weights = await asyncio.get_running_loop().run_in_executor(
                    None, LoadedWeights, path
                )
                self.loaded[model_id] = weights
        return web.json_response(self.model_json(model_id))

    async def unload(self, _: web.Request, model_id: str) -> web.Response:
        await self._unload(model_id)
        return web.json_response(self.model_json(model_id))

    async def _unload(self, model_id: str) -> None:
        async with self._locks[model_id]:
            weights = self.loaded.pop(model_id, None)
            if weights is not None:
                weights.close()

    async def update(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return text_error(400, f"malformed JSON body: {exc}")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return text_error(400, "the body must be a Model: a JSON object with a string 'id'")
        model_id = body["id"]
        if model_id not in self.catalog:
            return text_error(410, f"model {model_id!r} was not found")
        if self.store.metadata(model_id).get("custom") is not True:
            return text_error(
                500, f"{model_id!r} is not a custom model: only custom models can be updated"
            )
        fields = {k: v for k, v in body.items() if k not in READ_ONLY_FIELDS}
        for key, value in fields.items():
            expected = FIELD_TYPES.get(key)
            if expected is not None and (
                not isinstance(value, expected)
                or (expected is not bool and isinstance(value, bool))
            ):
                return text_error(400, f"field {key!r} has the wrong type")
        self.store.save_edits(model_id, fields)
        return web.json_response(self.model_json(model_id))

    async def close(self, _: web.Application | None = None) -> None:
        await self.transfers.close()
        for weights in self.loaded.values():
            weights.close()
        self.loaded.clear()


def _raw_segments(request: web.Request) -> list[str]:
    """Path segments, each percent-decoded on its own (so ``%2F`` stays inside its segment)."""
    path = request.raw_path.split("?", 1)[0]
    return [unquote(s, errors="surrogateescape") for s in path.strip("/").split("/")]


async def _drain(ws: web.WebSocketResponse) -> None:
    async for _ in ws:  # clients have nothing to say; we only notice them leaving
        pass


async def _stream_progress(
    ws: web.WebSocketResponse, transfers: Transfers, model_id: str, reader: asyncio.Future[None]
) -> None:
    """Wait for a transfer, then send its state on change: <= ~10 frames/s, terminal always."""
    waiter = asyncio.ensure_future(transfers.wait_started(model_id))
    await asyncio.wait([waiter, reader], return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        waiter.cancel()
        return
    transfer = waiter.result()
    changed = transfer.watch()
    last: dict[str, Any] | None = None
    try:
        while not reader.done():
            changed.clear()
            frame = transfer.frame()
            if frame != last:
                await ws.send_json(frame)
                last = frame
            if frame["status"] in ("COMPLETED", "FAILED", "CANCELED"):
                return
            # Rate cap: at most one frame per 100 ms, but a terminal state goes out at once.
            finished = asyncio.ensure_future(transfer.finished.wait())
            await asyncio.wait([finished, reader], timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
            finished.cancel()
            change = asyncio.ensure_future(changed.wait())
            await asyncio.wait([change, reader], return_when=asyncio.FIRST_COMPLETED)
            change.cancel()
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        return
    finally:
        transfer.unwatch(changed)


def create_app(
    data_dir: Path,
    catalog: dict[str, CatalogEntry],
    hub_rate: float = 0,
) -> web.Application:
    """The aiohttp application; the catalog is already loaded (see ``catalog.load_catalog``)."""
    store = ModelStore(data_dir, catalog)
    transfers = Transfers(
        lambda: aiohttp.ClientSession(
            read_bufsize=4 << 20,
            auto_decompress=False,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60),
        )
    )
    server = ModelServer(store, transfers)
    app = web.Application(client_max_size=1 << 20)
    app["server"] = server
    app.on_shutdown.append(server.close)
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
        ]
    )
    log.debug("pieces_widget %s reference server app created", __version__)
    return app
