"""A small local model hub: generated weight blobs served over HTTP with Range and a rate cap.

The demo and the tests need sources that behave like a real model host (sizes in MiB, resumable
with Range, slow enough that a progress bar moves), without the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import re
import tempfile
import time
from email.utils import formatdate
from pathlib import Path

from aiohttp import web

from .atomic import atomic_write, read_small, regular_size

BLOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# A directory of generated blobs shared by servers with different data directories (the test
# suite starts hundreds): a blob made once is hard-linked from there, not made again.
SHARED_ENV = "PIECES_HUB_CACHE"
DIGEST = re.compile(r"[0-9a-f]{64}")
_GEN_CHUNK = 1 << 20


def blob_path(hub_dir: Path, name: str) -> Path:
    if not BLOB_NAME.match(name):
        raise ValueError(f"hub blob names are [A-Za-z0-9._-]+, got {name!r}")
    return hub_dir / name


def ensure_blob(hub_dir: Path, name: str, size: int) -> str:
    """Create ``name`` with ``size`` deterministic pseudo-random bytes if missing; return sha256.

    The digest is cached next to the blob so a restart does not hash it again. Both are written
    whole or not at all and never through a symlink (see ``atomic``): the blob first, then its
    digest, so a digest on disk always describes a complete blob. A cache that does not read as
    a digest (empty after a crash, a symlink, garbage) is never trusted: the blob is made again.
    OSError when the disk says no (full, read-only).
    """
    path = blob_path(hub_dir, name)
    digest_path = path.with_name(path.name + ".sha256")
    cached = read_small(digest_path, 128)
    digest = cached.decode("ascii", "replace").strip() if cached is not None else ""
    if regular_size(path) == size and DIGEST.fullmatch(digest):
        return digest
    hub_dir.mkdir(parents=True, exist_ok=True)
    shared = _shared_path(name, size)
    digest = _link_shared(shared, path, size) if shared else None
    if digest is None:
        digest = _generate(path, name, size)
        if shared:
            _share(path, shared, digest)
    atomic_write(digest_path, (digest + "\n").encode(), mode=0o644)
    return digest


def _generate(path: Path, name: str, size: int) -> str:
    hub_dir = path.parent
    rng = random.Random(f"pieces-widget-hub:{name}")
    hasher = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=hub_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)  # served to anyone who asks anyway
            left = size
            while left:
                chunk = rng.randbytes(min(_GEN_CHUNK, left))
                hasher.update(chunk)
                f.write(chunk)
                left -= len(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:  # a full disk leaves no half blob behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return hasher.hexdigest()


def _shared_path(name: str, size: int) -> Path | None:
    root = os.environ.get(SHARED_ENV)
    return Path(root) / f"{size}-{name}" if root else None


def _link_shared(shared: Path, path: Path, size: int) -> str | None:
    """Hard-link the shared blob to ``path`` (renamed over whatever is there, a symlink
    included); its digest, or None when there is no complete one or it cannot be linked (another
    file system)."""
    cached = read_small(shared.with_name(shared.name + ".sha256"), 128)
    digest = cached.decode("ascii", "replace").strip() if cached is not None else ""
    if not DIGEST.fullmatch(digest) or regular_size(shared) != size:
        return None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.link")
    try:
        os.link(shared, tmp)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return None
    return digest


def _share(path: Path, shared: Path, digest: str) -> None:
    """Offer a blob just made to the shared directory: the blob first, then its digest, so a
    digest there always describes a complete blob (a second maker finds it taken: fine)."""
    with contextlib.suppress(OSError):
        os.link(path, shared)
        atomic_write(shared.with_name(shared.name + ".sha256"), (digest + "\n").encode(), 0o644)


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
        size = regular_size(path)  # a symlink planted in the hub is not a blob
        if path.suffix in (".sha256", ".tmp") or size is None:
            raise web.HTTPNotFound(text="no such blob")
        _parse_range(request.headers.get("Range"), size)  # 416 for a bad one
        if rate <= 0:
            return web.FileResponse(path)  # sendfile, Range handled by aiohttp
        return await _serve_throttled(request, path, rate)

    return [web.get("/hub/{name}", serve)]


async def _serve_throttled(request: web.Request, path: Path, rate: float) -> web.StreamResponse:
    st = path.stat()
    size = st.st_size
    etag = f'"{st.st_mtime_ns:x}-{size:x}"'  # as aiohttp's FileResponse makes it
    last_modified = formatdate(st.st_mtime, usegmt=True)
    byte_range = _parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if byte_range and if_range is not None and if_range.strip() not in (etag, last_modified):
        byte_range = None  # the client holds another version: the whole blob
    start, end = byte_range or (0, size)
    response = web.StreamResponse(status=206 if byte_range else 200)
    response.content_length = end - start
    response.content_type = "application/octet-stream"
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = last_modified
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
