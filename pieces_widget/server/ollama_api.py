"""The Ollama routes of Pieces OS 11+: ``/ollama/status`` (+ ``/stream``), ``/ollama/install``
(+ ``/{id}``, ``/{id}/cancel``) and ``/ollama/installs``. Install ids are dictionary keys only;
an unknown one is 410, as for models."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from .ollama import Deployment, OllamaRuntime
from .sockets import Enders, ended, serve_socket, until

STATUS_INTERVAL = 0.1  # at most ~10 status frames a second per socket


def ollama_routes(runtime: OllamaRuntime, closing: asyncio.Event) -> list[web.RouteDef]:
    def deployment_of(request: web.Request) -> Deployment | web.Response:
        identifier = request.match_info["id"]
        deployment = runtime.deployments.get(identifier)
        if deployment is None:
            return web.Response(
                status=410,
                text=f"Ollama installation {identifier!r} was not found",
                content_type="text/plain",
            )
        return deployment

    async def status(_: web.Request) -> web.Response:
        return web.json_response(runtime.status_json())

    async def install(request: web.Request) -> web.Response:
        return web.json_response(runtime.install(_own_url(request)).to_json())

    async def install_snapshot(request: web.Request) -> web.Response:
        found = deployment_of(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response(found.to_json())

    async def cancel(request: web.Request) -> web.Response:
        found = deployment_of(request)
        if isinstance(found, web.Response):
            return found
        await runtime.cancel(found)
        return web.json_response(found.to_json())

    async def installs(_: web.Request) -> web.Response:
        return web.json_response({"iterable": [d.to_json() for d in runtime.deployments.values()]})

    async def stream(request: web.Request) -> web.StreamResponse:
        async def send_changes(ws: web.WebSocketResponse, enders: Enders) -> None:
            await _status_stream(ws, runtime, enders)

        return await serve_socket(request, closing, send_changes)

    return [
        web.get("/ollama/status", status),
        web.get("/ollama/status/stream", stream),
        web.post("/ollama/install", install),
        web.get("/ollama/install/{id}", install_snapshot),
        web.post("/ollama/install/{id}/cancel", cancel),
        web.get("/ollama/installs", installs),
    ]


async def _status_stream(ws: web.WebSocketResponse, runtime: OllamaRuntime, enders: Enders) -> None:
    """The status on connect, then on every change, at most one frame per
    ``STATUS_INTERVAL``; the state after the last change always goes out."""
    changed = runtime.watch()
    last: dict[str, Any] | None = None
    try:
        while not ended(enders):
            changed.clear()
            status = runtime.status_json()
            if status != last:
                await ws.send_json(status)
                last = status
                await until(asyncio.sleep(STATUS_INTERVAL), enders, None)
                continue
            await until(changed.wait(), enders, None)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        return
    finally:
        runtime.unwatch(changed)


def _own_url(request: web.Request) -> str:
    """This server's URL as the client reached it (its own socket, not the Host header), so the
    install fetches the runtime from this server's hub."""
    host, port = request.transport.get_extra_info("sockname")[:2] if request.transport else ("", 0)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
