"""The progress WebSocket. By default: the current state on connect, then on change (<= ~10
frames/s, the terminal frame always and at once), then the server closes. It also ends when the
client leaves or the server stops (``closing``), so a shutdown never waits on an idle socket.

``Habits`` change this as Pieces OS does (see habits.py): INITIALIZED frames without a
percentage while a download waits to begin, sparser frames, no snapshot on connect, a socket
that stays open for the model's next download, RESET and UNKNOWN frames."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from ..core.models import IN_PROGRESS, RESET, TERMINAL_STATUSES, UNKNOWN
from .habits import INITIALIZED_EVERY, Habits
from .sockets import Enders, ended, serve_socket, until
from .transfer import Transfer
from .transfers import Transfers


async def progress_socket(
    request: web.Request,
    transfers: Transfers,
    model_id: str,
    closing: asyncio.Event,
    habits: Habits | None = None,
) -> web.StreamResponse:
    async def stream(ws: web.WebSocketResponse, enders: Enders) -> None:
        await _stream(ws, transfers, model_id, enders, habits or Habits())

    return await serve_socket(request, closing, stream)


async def _stream(
    ws: web.WebSocketResponse,
    transfers: Transfers,
    model_id: str,
    enders: Enders,
    habits: Habits,
) -> None:
    # Without the snapshot habit, a download already in flight is only news when it changes;
    # one that starts later is news from its first frame.
    send_first = habits.snapshot or transfers.active(model_id) is None
    while True:
        waiter = asyncio.ensure_future(transfers.wait_started(model_id))
        await asyncio.wait([waiter, *enders], return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            waiter.cancel()
            return
        try:
            finished = await _follow(ws, waiter.result(), enders, habits, send_first)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            return
        if not finished or not habits.keep_socket_open:
            return
        send_first = True


async def _follow(
    ws: web.WebSocketResponse,
    transfer: Transfer,
    enders: Enders,
    habits: Habits,
    send_first: bool,
) -> bool:
    """Stream one transfer; True once its terminal frame went out, False if an ender fired."""
    loop = asyncio.get_running_loop()
    interval = habits.frame_interval
    heartbeat = max(INITIALIZED_EVERY, interval)  # INITIALIZED again while the start waits
    changed = transfer.watch()
    last: dict[str, Any] | None = None if send_first or transfer.done else transfer.frame()
    sent_at = -float("inf") if last is None else loop.time()
    resets_seen = transfer.resets
    unknown_at: float | None = None  # when the next UNKNOWN frame is due
    try:
        while not ended(enders):
            changed.clear()
            now = loop.time()
            frame = transfer.frame()
            if frame["status"] in TERMINAL_STATUSES:  # at once, whatever the rate cap says
                if frame != last:
                    await ws.send_json(frame)
                return True
            if transfer.resets > resets_seen:  # each socket tells each start-over
                resets_seen = transfer.resets
                last, sent_at = {"status": RESET, "percentage": 0}, now
                await ws.send_json(last)  # (the RESET state itself is then no news)
            elif now >= sent_at + interval and (
                frame != last or (transfer.pending and now >= sent_at + heartbeat)
            ):
                await ws.send_json(frame)
                last, sent_at = frame, now
            if habits.unknown_every and frame["status"] == IN_PROGRESS:
                if unknown_at is None:
                    unknown_at = now + habits.unknown_every
                elif now >= unknown_at:
                    await ws.send_json({"status": UNKNOWN})
                    last, unknown_at = None, now + habits.unknown_every
            # Sleep until the next thing to send: a change once the rate cap allows one (the end
            # always wakes us), the next INITIALIZED while pending, the next UNKNOWN.
            wakes = (
                [unknown_at] if unknown_at is not None and frame["status"] == IN_PROGRESS else []
            )
            if transfer.pending:
                wakes.append(sent_at + heartbeat)
            if now < sent_at + interval:
                wakes.append(sent_at + interval)
                event = transfer.finished
            else:
                event = changed
            timeout = max(0.0, min(wakes) - now) if wakes else None
            await until(event.wait(), enders, timeout)
        return False
    finally:
        transfer.unwatch(changed)
