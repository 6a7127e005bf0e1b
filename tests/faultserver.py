"""Test-only servers for faults the reference server never makes.

``FaultServer``: a tiny misbehaving Pieces OS (garbage frames, refused upgrades, silent sockets,
error statuses, slow answers), configured by plain attributes. ``ChaosProxy``: a TCP proxy
between a client and the real reference server that resets connections and adds latency.
Both run on their own event loop in a thread, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class FaultServer:
    """Serves one model ``m``. ``ws`` is 'frames' | 'refuse' | 'silent' | 'gone'."""

    def __init__(self) -> None:
        self.model: dict[str, Any] = {
            "id": "m", "name": "M", "cloud": False, "downloaded": False, "downloading": True,
            "bytes": {"value": 1000, "readable": "1 KB"},
        }  # fmt: skip
        self.ws = "frames"
        self.frames: list[str | bytes] = []
        self.frame_interval = 0.05
        self.close_after_frames = True
        self.status_for: dict[str, tuple[int, str]] = {}  # path -> (status, text)
        self.raw_answers: dict[str, tuple[dict[str, str], bytes]] = {}  # path -> (headers, body)
        self.delay = 0.0
        self.health = "ok:fault"
        self.offer_connect = False
        self.on_frames_sent: Callable[[], None] | None = None
        self.pong = True  # False: the socket answers no ping (half-open)
        self.raw_frames = b""  # bytes written as they are on the socket once it is upgraded
        self.listing: list[dict[str, Any]] | None = None  # /models and /model/{id} instead
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._loop = _LoopThread()
        self.url = self._loop.call(self._start())
        self.port = int(self.url.rsplit(":", 1)[1])

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.seen.append((request.method, path, dict(request.headers)))
        if self.delay:
            await asyncio.sleep(self.delay)
        if path in self.status_for:
            status, text = self.status_for[path]
            return web.Response(status=status, text=text)
        if path in self.raw_answers:
            headers, body = self.raw_answers[path]
            return web.Response(body=body, headers=headers)
        if path == "/.well-known/health":
            return web.Response(text=self.health)
        if path == "/.well-known/version":
            return web.Response(text="11.0.0")
        if path == "/connect" and self.offer_connect:
            return web.json_response({"application": {"id": "app-123", "name": "JUPYTER_HUB"}})
        if path == "/models":
            return web.json_response({"iterable": self.listing or [self.model]})
        if path.endswith("/download/progress"):
            return await self._progress(request)
        if self.listing is not None and path.startswith("/model/"):
            model_id = path.split("/")[2]
            found = next((m for m in self.listing if m["id"] == model_id), None)
            if found is not None:
                return web.json_response(found)
        if path.startswith("/model/m"):
            return web.json_response(self.model)
        return web.Response(status=410, text="model was not found")

    async def _progress(self, request: web.Request) -> web.StreamResponse:
        if self.ws == "refuse":
            return web.Response(status=500, text="no websockets here")
        if self.ws == "gone":
            return web.Response(status=410, text="model was not found")
        ws = web.WebSocketResponse(autoping=self.pong)
        await ws.prepare(request)
        if self.raw_frames:
            assert request.transport is not None
            request.transport.write(self.raw_frames)
        if self.ws == "frames":
            for frame in self.frames:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
                await asyncio.sleep(self.frame_interval)
            if self.on_frames_sent:
                self.on_frames_sent()
            if self.close_after_frames:
                await ws.close()
                return ws
        async for _ in ws:  # silent: hold the socket open until the client leaves
            pass
        return ws

    def close(self) -> None:
        self._loop.call(self._runner.cleanup())
        self._loop.close()


class SlowServer:
    """A Pieces OS that takes requests and answers none (``drip=None``), or drips each answer
    (``body``, status 200) a byte every ``drip`` seconds. ``open`` counts the connections the
    client has not closed yet; ``requests`` the requests heard."""

    def __init__(self, drip: float | None = None, body: bytes = b'{"iterable": []}') -> None:
        self.drip = drip
        self.body = body
        self.open = 0
        self.requests = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = _LoopThread()
        self.port = self._loop.call(self._start())
        self.url = f"http://127.0.0.1:{self.port}"

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.open += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                length = next(
                    (int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                     if line.startswith(b"content-length:")), 0,
                )  # fmt: skip
                await reader.readexactly(length)
                if self.drip is None:
                    await reader.read()  # never answer: wait for the client to leave
                    return
                answer = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(self.body), self.body)
                )
                for i in range(len(answer)):
                    writer.write(answer[i : i + 1])
                    await writer.drain()
                    await asyncio.sleep(self.drip)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            return  # closing: end quietly (asyncio logs a task that ends canceled)
        finally:
            self.open -= 1
            writer.transport.abort()

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        self._loop.call(stop())
        self._loop.close()


class ChaosProxy:
    """TCP proxy to ``upstream_port``; ``reset_every`` s it aborts every connection it carries."""

    def __init__(self, upstream_port: int, reset_every: float = 0.0, latency: float = 0.0) -> None:
        self.upstream_port = upstream_port
        self.reset_every = reset_every
        self.latency = latency
        self.resets = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = _LoopThread()
        self.port = self._loop.call(self._start())
        self.url = f"http://127.0.0.1:{self.port}"

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        if self.reset_every:
            self._chaos = asyncio.ensure_future(self._reset_loop())
        return self._server.sockets[0].getsockname()[1]

    async def _reset_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reset_every)
            for writer in list(self._writers):
                writer.transport.abort()
                self.resets += 1
            self._writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, up_writer})
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.latency:
                    await asyncio.sleep(self.latency)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)

    def close(self) -> None:
        async def stop() -> None:
            if self.reset_every:
                self._chaos.cancel()
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        self._loop.call(stop())
        self._loop.close()


class FaultHub:
    """A model source that misbehaves on cue. ``GET /blob`` serves ``size`` deterministic bytes
    (Range honoured); each request takes the next action of ``plan``, then ``default``:

    - ``("ok",)``: serve normally; ``("ignore_range",)``: 200 with the whole blob
    - ``("stall", n)``: send ``n`` bytes, then nothing until the client leaves
    - ``("reset", n)``: send ``n`` bytes, then reset the connection
    - ``("status", code)``: answer ``code`` with no body

    ``/chain/{n}`` redirects ``n`` times before ``/blob``; ``/loop/a`` and ``/loop/b`` redirect
    to each other; ``/ftp`` redirects to an ftp:// URL. ``seen`` lists (path, Range header).
    """

    def __init__(self, size: int, seed: str = "fault-hub") -> None:
        import hashlib
        import random

        self.blob = random.Random(seed).randbytes(size)
        self.sha256 = hashlib.sha256(self.blob).hexdigest()
        self.plan: list[tuple[Any, ...]] = []
        self.default: tuple[Any, ...] = ("ok",)
        self.seen: list[tuple[str, str | None]] = []
        self._loop = _LoopThread()
        self._release = self._loop.call(self._event())
        self.url = self._loop.call(self._start())

    async def _event(self) -> asyncio.Event:
        return asyncio.Event()

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get("/blob", self._blob)
        app.router.add_get("/chain/{n}", self._chain)
        app.router.add_get("/loop/{name}", self._redirect_loop)
        app.router.add_get("/ftp", self._ftp)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def source(self, path: str = "/blob", **extra: Any) -> dict[str, Any]:
        """A catalog ``source`` for this hub."""
        return {"url": self.url + path, "sha256": self.sha256, "bytes": len(self.blob), **extra}

    async def _chain(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("Range")))
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/chain/{n - 1}" if n > 1 else "/blob")

    async def _redirect_loop(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("Range")))
        raise web.HTTPFound("/loop/b" if request.match_info["name"] == "a" else "/loop/a")

    async def _ftp(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("ftp://127.0.0.1/blob")

    async def _blob(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Range")
        self.seen.append((request.path, header))
        action = self.plan.pop(0) if self.plan else self.default
        if action[0] == "status":
            return web.Response(status=action[1])
        start = int(header.split("=")[1].split("-")[0]) if header else 0
        if action[0] == "ignore_range":
            start = 0
        response = web.StreamResponse(status=206 if start else 200)
        response.content_length = len(self.blob) - start
        if start:
            response.headers["Content-Range"] = (
                f"bytes {start}-{len(self.blob) - 1}/{len(self.blob)}"
            )
        await response.prepare(request)
        limit = len(self.blob) if action[0] in ("ok", "ignore_range") else start + action[1]
        for offset in range(start, limit, 1 << 16):
            await response.write(self.blob[offset : min(offset + (1 << 16), limit)])
        if action[0] == "stall":
            await self._release.wait()  # until the hub closes
        if action[0] == "reset":
            assert request.transport is not None
            request.transport.abort()
            return response
        await response.write_eof()
        return response

    def close(self) -> None:
        self._loop.loop.call_soon_threadsafe(self._release.set)
        self._loop.call(self._runner.cleanup())
        self._loop.close()


class RouteProxy:
    """An HTTP and WebSocket proxy to a real server that misbehaves on chosen routes:
    ``refuse[path] = (status, text)`` answers there instead of the server; ``inject`` frames go
    first on every relayed WebSocket (what a real server never sends); ``drop_after`` frames the
    first relayed WebSocket is cut without a close; ``seen`` lists (method, path) of every
    request."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.refuse: dict[str, tuple[int, str]] = {}
        self.inject: list[str | bytes] = []
        self.drop_after: int | None = None
        self.seen: list[tuple[str, str]] = []
        self._loop = _LoopThread()
        self.url = self._loop.call(self._start())

    async def _start(self) -> str:
        import aiohttp

        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def count(self, method: str, path: str) -> int:
        return self.seen.count((method, path))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path))
        if request.path in self.refuse:
            status, text = self.refuse[request.path]
            return web.Response(status=status, text=text)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._relay(request)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() == "content-type"}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body or None, headers=headers
        ) as answer:
            return web.Response(
                status=answer.status, body=await answer.read(), content_type=answer.content_type
            )

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in self.inject:
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
        url = self.upstream.replace("http", "ws", 1) + request.path_qs
        async with self._session.ws_connect(url) as upstream:

            async def client_leaves() -> None:
                async for _ in ws:
                    pass
                await upstream.close()

            leaving = asyncio.ensure_future(client_leaves())
            relayed = 0
            async for message in upstream:
                if ws.closed:
                    break
                await ws.send_str(message.data)
                relayed += 1
                if relayed == self.drop_after:
                    self.drop_after = None
                    assert request.transport is not None
                    request.transport.abort()  # gone without a close, as when a server dies
                    break
            leaving.cancel()
        await ws.close()
        return ws

    def close(self) -> None:
        async def stop() -> None:
            await self._runner.cleanup()
            await self._session.close()

        self._loop.call(stop())
        self._loop.close()
