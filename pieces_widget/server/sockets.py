"""What the server's WebSockets share: the upgrade, noticing the client leave or the server
stop, and a close that never makes a shutdown wait on an idle client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

CLOSE_TIMEOUT = 1.0  # seconds to wait for the client's answer to our close frame
Enders = list["asyncio.Future[Any]"]


async def serve_socket(
    request: web.Request,
    closing: asyncio.Event,
    stream: Callable[[web.WebSocketResponse, Enders], Awaitable[None]],
) -> web.StreamResponse:
    """Upgrade ``request`` and run ``stream(ws, enders)``: ``enders`` are futures that finish
    when the client leaves or the server stops (``closing``); then close the socket."""
    ws = web.WebSocketResponse(heartbeat=None, timeout=CLOSE_TIMEOUT)
    if not ws.can_prepare(request).ok:
        return web.Response(
            status=400,
            text="this route is a WebSocket: connect with an Upgrade request",
            content_type="text/plain",
        )
    await ws.prepare(request)
    reader = asyncio.ensure_future(_drain(ws))  # notices the client closing
    stopper = asyncio.ensure_future(closing.wait())
    try:
        await stream(ws, [reader, stopper])
    finally:
        reader.cancel()
        stopper.cancel()
        if closing.is_set():  # the server is stopping: no waiting for the client's goodbye
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ws.close(), 0.05)
        else:
            await ws.close()
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    async for _ in ws:  # clients have nothing to say; we only notice them leaving
        pass


async def until(awaitable: Any, enders: Enders, timeout: float | None) -> None:
    """Wait for ``awaitable``, any of ``enders``, or ``timeout``; cancel ``awaitable`` after."""
    future = asyncio.ensure_future(awaitable)
    await asyncio.wait([future, *enders], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    future.cancel()


def ended(enders: Enders) -> bool:
    return any(e.done() for e in enders)
