"""A model source that behaves as real hosts may, on cue (test-only): it gzips when the client
allows it, changes its file between two requests, lies about its size, holds a transfer
mid-way. Runs on its own event loop in a thread, on 127.0.0.1 and a free port."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import random
from typing import Any

from aiohttp import web
from faultserver import _LoopThread


def blob_of(size: int, seed: str) -> bytes:
    return random.Random(seed).randbytes(size)


class HostileSource:
    """``GET``/``HEAD /file`` serves ``blob``. Attributes (change them between requests):

    - ``etag`` / ``last_modified``: validators sent with every answer (None: not sent);
      ``If-Range`` is honoured against them, as RFC 9110 says, unless ``honor_if_range`` is off
    - ``gzip_when_allowed``: a client whose ``Accept-Encoding`` allows gzip gets the file gzipped
      (``Content-Encoding: gzip``), as many web servers and CDNs do; ``gzip_always``: whatever
      the client asked for
    - ``head_length``: the ``Content-Length`` a HEAD announces (default: the blob's size)
    - ``probe_range``: the ``Content-Range`` a ``Range: bytes=0-0`` GET answers with
    - ``hold_after``: send that many bytes of a full answer, then hold until ``release()``
    """

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.honor_if_range = True
        self.gzip_when_allowed = False
        self.gzip_always = False
        self.head_length: int | None = None
        self.probe_range: str | None = None
        self.hold_after: int | None = None
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._loop = _LoopThread()
        self._held = self._loop.call(self._event())
        self.url = self._loop.call(self._start()) + "/file"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.blob).hexdigest()

    async def _event(self) -> asyncio.Event:
        return asyncio.Event()

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/file", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def release(self) -> None:
        self._loop.loop.call_soon_threadsafe(self._held.set)

    def hold(self, after: int | None) -> None:
        self.hold_after = after
        self._loop.loop.call_soon_threadsafe(self._held.clear)

    def _validators(self) -> dict[str, str]:
        headers = {"Accept-Ranges": "bytes"}
        if self.etag is not None:
            headers["ETag"] = self.etag
        if self.last_modified is not None:
            headers["Last-Modified"] = self.last_modified
        return headers

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, dict(request.headers)))
        headers = self._validators()
        size = len(self.blob)
        if request.method == "HEAD":
            length = size if self.head_length is None else self.head_length
            return web.Response(headers={**headers, "Content-Length": str(length)})
        wanted = request.headers.get("Range")
        if wanted == "bytes=0-0" and self.probe_range is not None:
            return web.Response(
                status=206,
                body=self.blob[:1],
                headers={**headers, "Content-Range": self.probe_range},
            )
        if_range = request.headers.get("If-Range")
        current = {v for v in (self.etag, self.last_modified) if v is not None}
        if wanted and if_range is not None and self.honor_if_range and if_range not in current:
            wanted = None  # the client holds another version: the whole file
        start = int(wanted.split("=")[1].split("-")[0]) if wanted else 0
        body = self.blob[start:]
        allowed = "gzip" in request.headers.get("Accept-Encoding", "")
        if self.gzip_always or (self.gzip_when_allowed and allowed):
            headers["Content-Encoding"] = "gzip"
            body = gzip.compress(body, compresslevel=1)
        response = web.StreamResponse(status=206 if start else 200, headers=headers)
        if start:
            response.headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        response.content_length = len(body)
        await response.prepare(request)
        limit = len(body) if self.hold_after is None else min(self.hold_after, len(body))
        with contextlib.suppress(ConnectionResetError):  # the client left: no error
            for offset in range(0, limit, 1 << 16):
                await response.write(body[offset : min(offset + (1 << 16), limit)])
            if limit < len(body):
                await self._held.wait()
                for offset in range(limit, len(body), 1 << 16):
                    await response.write(body[offset : offset + (1 << 16)])
            await response.write_eof()
        return response

    def close(self) -> None:
        self.release()
        self._loop.call(self._runner.cleanup())
        self._loop.close()

    def headers_of(self, method: str = "GET") -> list[dict[str, Any]]:
        return [h for m, h in self.seen if m == method]
