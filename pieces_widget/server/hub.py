"""A small local model hub: generated weight blobs served over HTTP with Range and a rate cap.

The demo and the tests need sources that behave like a real model host (sizes in MiB, resumable
with Range, slow enough that a progress bar moves), without the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import re
import time
from pathlib import Path

from aiohttp import web

BLOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_GEN_CHUNK = 1 << 20


def blob_path(hub_dir: Path, name: str) -> Path:
    if not BLOB_NAME.match(name):
        raise ValueError(f"hub blob names are [A-Za-z0-9._-]+, got {name!r}")
    return hub_dir / name


def ensure_blob(hub_dir: Path, name: str, size: int) -> str:
    """Create ``name`` with ``size`` deterministic pseudo-random bytes if missing; return sha256.

    The digest is cached next to the blob so a restart does not hash it again. OSError when the
    disk says no (full, read-only).
    """
    path = blob_path(hub_dir, name)
    digest_path = path.with_name(path.name + ".sha256")
    if path.exists() and path.stat().st_size == size and digest_path.exists():
        return digest_path.read_text().strip()
    hub_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"pieces-widget-hub:{name}")
    hasher = hashlib.sha256()
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            left = size
            while left:
                chunk = rng.randbytes(min(_GEN_CHUNK, left))
                hasher.update(chunk)
                f.write(chunk)
                left -= len(chunk)
        tmp.replace(path)
    finally:  # a full disk leaves no half blob behind
        tmp.unlink(missing_ok=True)
    digest = hasher.hexdigest()
    digest_path.write_text(digest + "\n")
    return digest


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``bytes=START-[END]`` -> (start, end_exclusive); None for no or unsupported Range.

    A range that cannot be satisfied (``bytes=100-5``, a start past the end) is a 416 at once.
    """
    if not header:
        return None
    match = re.fullmatch(r"bytes=(\d+)-(\d*)", header.strip())
    if not match:
        return None
    start = int(match.group(1))
    end = int(match.group(2)) + 1 if match.group(2) else size
    if end <= start or start >= size:
        raise web.HTTPRequestRangeNotSatisfiable(
            headers={"Content-Range": f"bytes */{size}"},
            text=f"range not satisfiable: {header.strip()[:40]} of {size} bytes",
        )
    return start, min(end, size)


def hub_routes(hub_dir: Path, rate: float) -> list[web.RouteDef]:
    """Routes serving ``hub_dir`` at ``/hub/{name}``; ``rate`` (bytes/s) caps each response."""

    async def serve(request: web.Request) -> web.StreamResponse:
        try:
            path = blob_path(hub_dir, request.match_info["name"])
        except ValueError:
            raise web.HTTPNotFound(text="no such blob") from None
        if path.suffix in (".sha256", ".tmp") or not path.is_file():
            raise web.HTTPNotFound(text="no such blob")
        _parse_range(request.headers.get("Range"), path.stat().st_size)  # 416 for a bad one
        if rate <= 0:
            return web.FileResponse(path)  # sendfile, Range handled by aiohttp
        return await _serve_throttled(request, path, rate)

    return [web.get("/hub/{name}", serve)]


async def _serve_throttled(request: web.Request, path: Path, rate: float) -> web.StreamResponse:
    size = path.stat().st_size
    byte_range = _parse_range(request.headers.get("Range"), size)
    start, end = byte_range or (0, size)
    response = web.StreamResponse(status=206 if byte_range else 200)
    response.content_length = end - start
    response.content_type = "application/octet-stream"
    response.headers["Accept-Ranges"] = "bytes"
    if byte_range:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    # A client that leaves (every Cancel) is no error; aiohttp says so with its
    # ClientConnectionResetError, a ConnectionResetError.
    with contextlib.suppress(ConnectionResetError):
        await _write_throttled(response, path, start, end, rate)
        await response.write_eof()
    return response


async def _write_throttled(
    response: web.StreamResponse, path: Path, start: int, end: int, rate: float
) -> None:
    slice_size = max(4096, int(rate / 20))  # ~20 writes a second keeps progress smooth
    began = time.monotonic()
    sent = 0
    with open(path, "rb") as f:
        f.seek(start)
        while sent < end - start:
            chunk = f.read(min(slice_size, end - start - sent))
            if not chunk:
                break
            await response.write(chunk)
            sent += len(chunk)
            delay = began + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
