"""The Ollama routes of Pieces OS 11+: ``/ollama/status`` (+ ``/stream``), ``/ollama/install``
and ``/ollama/update`` (each + ``/{identifier}``, ``/{identifier}/cancel``), ``/ollama/installs``,
``/ollama/updates`` and ``/ollama/uninstall``. Ids are dictionary keys only; an unknown one is
410, as for models. A refusal (nothing to update, an uninstall during an install) is a 500 with
one line, the spec's only error answer."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from .ollama import Deployment, OllamaRuntime, RuntimeRefusal
from .replies import BodyError, read_json, text_error
from .sockets import Enders, ended, serve_socket, until

STATUS_INTERVAL = 0.1  # at most ~10 status frames a second per socket


def ollama_routes(runtime: OllamaRuntime, closing: asyncio.Event) -> list[web.RouteDef]:
    def deployment_of(request: web.Request) -> Deployment | web.Response:
        identifier = request.match_info["id"]
        updates = request.path.startswith("/ollama/update/")
        deployment = (runtime.updates if updates else runtime.deployments).get(identifier)
        if deployment is None:
            return _gone("update" if updates else "installation", identifier)
        return deployment

    async def status(_: web.Request) -> web.Response:
        return web.json_response(runtime.status_json())

    async def install(request: web.Request) -> web.Response:
        return web.json_response(runtime.install(_own_url(request)).to_json())

    async def snapshot(request: web.Request) -> web.Response:
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

    async def update(request: web.Request) -> web.Response:
        try:
            version = _field(await _optional_body(request), "version")
            return web.json_response(runtime.update(_own_url(request), version).to_json())
        except BodyError as exc:
            return exc.response
        except RuntimeRefusal as exc:
            return text_error(500, str(exc))

    async def updates(_: web.Request) -> web.Response:
        return web.json_response({"iterable": [d.to_json() for d in runtime.updates.values()]})

    async def uninstall(request: web.Request) -> web.Response:
        try:
            identifier = _field(await _optional_body(request), "id")
        except BodyError as exc:
            return exc.response
        try:
            return web.json_response(runtime.uninstall(identifier).to_json())
        except RuntimeRefusal as exc:
            return text_error(500, str(exc))
        except KeyError:
            return _gone("installation", identifier or "")

    async def stream(request: web.Request) -> web.StreamResponse:
        async def send_changes(ws: web.WebSocketResponse, enders: Enders) -> None:
            await _status_stream(ws, runtime, enders)

        return await serve_socket(request, closing, send_changes)

    return [
        web.get("/ollama/status", status),
        web.get("/ollama/status/stream", stream),
        web.post("/ollama/install", install),
        web.get("/ollama/install/{id}", snapshot),
        web.post("/ollama/install/{id}/cancel", cancel),
        web.get("/ollama/installs", installs),
        web.post("/ollama/update", update),
        web.get("/ollama/update/{id}", snapshot),
        web.post("/ollama/update/{id}/cancel", cancel),
        web.get("/ollama/updates", updates),
        web.post("/ollama/uninstall", uninstall),
    ]


def _gone(what: str, identifier: str) -> web.Response:
    return text_error(410, f"Ollama {what} {identifier[:100]!r} was not found")


async def _optional_body(request: web.Request) -> dict[str, Any]:
    """An ``OllamaDeployment`` body, or ``{}`` when none was sent (``BodyError`` otherwise)."""
    if not request.can_read_body:
        return {}
    body = await read_json(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BodyError(400, "the body must be an OllamaDeployment object")
    return body


def _field(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BodyError(400, f"the OllamaDeployment's {name!r} must be a string")
    return value


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
