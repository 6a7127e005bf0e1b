"""The progress WebSocket: the current state on connect, then on change (<= ~10 frames/s, the
terminal frame always and at once), then the server closes. It also ends when the client
leaves or the server stops (``closing``), so a shutdown never waits on an idle socket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from aiohttp import web

from ..core.models import TERMINAL_STATUSES
from .transfers import Transfers

FRAME_INTERVAL = 0.1
CLOSE_TIMEOUT = 1.0  # seconds to wait for the client's answer to our close frame


async def progress_socket(
    request: web.Request, transfers: Transfers, model_id: str, closing: asyncio.Event
) -> web.StreamResponse:
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
        await _stream(ws, transfers, model_id, [reader, stopper])
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


async def _until(awaitable: Any, enders: list[asyncio.Future[Any]], timeout: float | None) -> None:
    """Wait for ``awaitable``, any of ``enders``, or ``timeout``; cancel ``awaitable`` after."""
    future = asyncio.ensure_future(awaitable)
    await asyncio.wait([future, *enders], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    future.cancel()


async def _stream(
    ws: web.WebSocketResponse,
    transfers: Transfers,
    model_id: str,
    enders: list[asyncio.Future[Any]],
) -> None:
    waiter = asyncio.ensure_future(transfers.wait_started(model_id))
    await asyncio.wait([waiter, *enders], return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        waiter.cancel()
        return
    transfer = waiter.result()
    changed = transfer.watch()
    last: dict[str, Any] | None = None
    try:
        while not any(e.done() for e in enders):
            changed.clear()
            frame = transfer.frame()
            if frame != last:
                await ws.send_json(frame)
                last = frame
            if frame["status"] in TERMINAL_STATUSES:
                return
            # Rate cap: at most one frame per 100 ms, but a terminal state goes out at once.
            await _until(transfer.finished.wait(), enders, FRAME_INTERVAL)
            await _until(changed.wait(), enders, None)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        return
    finally:
        transfer.unwatch(changed)
