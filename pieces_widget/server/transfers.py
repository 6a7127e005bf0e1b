"""Real model downloads: stream to ``.part``, resume with Range, sha256, fsync, atomic rename.

One ``Transfer`` per model at a time; a second download request for the same model joins it.
Watchers (progress WebSockets) get an ``asyncio.Event`` set on every change.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ctypes
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

from ..models import CANCELED, COMPLETED, FAILED, IN_PROGRESS, INITIALIZED, TERMINAL_STATUSES
from .catalog import Source
from .store import fsync_dir

log = logging.getLogger("pieces_widget.server")
CHUNK = 1 << 20
BACKLOG = 16  # chunks queued for the disk and hash threads before the network read waits
WRITEBACK_EVERY = 8 * CHUNK  # bytes between nudges to the kernel to start writing to disk


class TransferError(Exception):
    """Why a download failed, in words for the user."""


class _Sink:
    """Writes and hashes chunks in order, each in its own thread (both release the GIL), so the
    event loop goes on reading the network: a transfer runs at the pace of its slowest step."""

    def __init__(self, f: BinaryIO, hasher: Any) -> None:
        self._f = f
        self._hasher = hasher
        self._disk = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="transfer-disk")
        self._hash = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="transfer-hash")
        self._pending: collections.deque[concurrent.futures.Future[Any]] = collections.deque()
        self._written = self._synced = f.tell()  # offsets in the file (resumes start mid-file)

    def _write(self, chunk: bytes) -> None:
        self._f.write(chunk)
        self._written += len(chunk)
        if self._written - self._synced >= WRITEBACK_EVERY:
            start_writeback(self._f, self._synced, self._written - self._synced)
            self._synced = self._written

    async def put(self, chunk: bytes) -> None:
        self._pending.append(self._hash.submit(self._hasher.update, chunk))
        self._pending.append(self._disk.submit(self._write, chunk))
        while len(self._pending) > 2 * BACKLOG:
            await asyncio.wrap_future(self._pending.popleft())

    async def finish(self) -> str:
        """Flush, fsync and hash what is queued; the fsync overlaps the tail of the hashing."""
        synced = self._disk.submit(_fsync, self._f)
        for future in [*self._pending, synced]:
            await asyncio.wrap_future(future)
        self._pending.clear()
        return self._hasher.hexdigest()

    def abort(self) -> None:
        """Drop queued work and wait for the running write, so the file can be closed."""
        for future in self._pending:
            future.cancel()
        concurrent.futures.wait(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self._disk.shutdown(wait=True)
        self._hash.shutdown(wait=True)


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        func = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # not Linux: the final fsync does all the writing
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return func


_sync_file_range = _load_sync_file_range()


def start_writeback(f: BinaryIO, offset: int, length: int) -> None:
    """Ask Linux to start writing a range to disk now, without waiting for it, so the final
    fsync finds little left to do (curl pays no fsync; we would otherwise pay it all at the end).
    """
    if _sync_file_range is not None:
        f.flush()
        _sync_file_range(f.fileno(), offset, length, 2)  # SYNC_FILE_RANGE_WRITE


def _fsync(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


def _hash_prefix(path: Path, hasher: Any) -> None:
    with open(path, "rb") as f:
        while block := f.read(CHUNK * 4):
            hasher.update(block)


class Transfer:
    """One model's download, running as an asyncio task in the server's loop."""

    def __init__(
        self,
        model_id: str,
        source: Source,
        part: Path,
        final: Path,
        session: aiohttp.ClientSession,
    ) -> None:
        self.model_id = model_id
        self.source = source
        self.part = part
        self.final = final
        self.status = INITIALIZED
        self.bytes_done = part.stat().st_size if part.exists() else 0
        self.error: str | None = None
        self.finished = asyncio.Event()
        self._session = session
        self._watchers: set[asyncio.Event] = set()
        self._hasher: Any = hashlib.sha256()
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def frame(self) -> dict[str, Any]:
        """The current state as a ``ModelDownloadProgress`` JSON object."""
        if self.status == COMPLETED:
            percentage = 100.0
        else:
            percentage = round(min(self.bytes_done, self.source.bytes) * 100 / self.source.bytes, 2)
        return {"status": self.status, "percentage": percentage}

    def watch(self) -> asyncio.Event:
        event = asyncio.Event()
        event.set()  # the current state is news to a new watcher
        self._watchers.add(event)
        return event

    def unwatch(self, event: asyncio.Event) -> None:
        self._watchers.discard(event)

    def _changed(self) -> None:
        for event in self._watchers:
            event.set()

    def _set_status(self, status: str) -> None:
        self.status = status
        self._changed()

    async def cancel(self) -> None:
        """Stop the transfer (keeping ``.part`` for a later resume) and wait until it has."""
        self._task.cancel()
        await self.finished.wait()

    async def _run(self) -> None:
        try:
            await self._transfer()
        except asyncio.CancelledError:
            self._set_status(CANCELED)
        except Exception as exc:  # a failed download is reported, never raised into the loop
            self.error = str(exc) or type(exc).__name__
            log.warning("download of %r failed: %s", self.model_id, self.error)
            self._set_status(FAILED)
        else:
            self._set_status(COMPLETED)
        finally:
            self.finished.set()

    async def _transfer(self) -> None:
        loop = asyncio.get_running_loop()
        total = self.source.bytes
        offset = self.bytes_done
        if offset > total:
            self.part.unlink()
            offset = 0
        self._hasher = hashlib.sha256()
        if offset:
            await loop.run_in_executor(None, _hash_prefix, self.part, self._hasher)
        self.bytes_done = offset
        digest = await self._fetch(offset) if offset < total else self._hasher.hexdigest()
        if digest != self.source.sha256:
            self.part.unlink(missing_ok=True)
            raise TransferError("checksum mismatch: the downloaded file was deleted")
        os.replace(self.part, self.final)
        await loop.run_in_executor(None, fsync_dir, self.final.parent)

    async def _fetch(self, offset: int) -> str:
        """Fetch from ``offset`` to the end into ``.part``; the sha256 of the whole file."""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        async with self._session.get(self.source.url, headers=headers) as response:
            if offset and response.status == 200:  # the source ignored Range: start over
                offset = 0
                self._hasher = hashlib.sha256()
            elif response.status not in (200, 206):
                raise TransferError(f"source answered HTTP {response.status}")
            self.bytes_done = offset
            self._set_status(IN_PROGRESS)
            with open(self.part, "ab" if offset else "wb") as f:
                sink = _Sink(f, self._hasher)
                try:
                    await self._stream(response, sink, offset)
                    return await sink.finish()
                except BaseException:
                    sink.abort()  # never close the file under a write in flight
                    raise
                finally:
                    sink.close()

    async def _stream(self, response: aiohttp.ClientResponse, sink: _Sink, offset: int) -> None:
        total = self.source.bytes
        async for chunk in response.content.iter_chunked(CHUNK):
            if offset + len(chunk) > total:
                raise TransferError(f"source sent more than {total} bytes")
            await sink.put(chunk)
            offset += len(chunk)
            self.bytes_done = offset
            self._changed()
        if offset != total:
            raise TransferError(f"source ended early: {offset} of {total} bytes")


class Transfers:
    """The transfers of one server: at most one in flight per model."""

    def __init__(self, session_factory: Callable[[], aiohttp.ClientSession]) -> None:
        self._session_factory = session_factory
        self._session: aiohttp.ClientSession | None = None
        self._active: dict[str, Transfer] = {}
        self._started: dict[str, asyncio.Event] = {}

    def active(self, model_id: str) -> Transfer | None:
        transfer = self._active.get(model_id)
        return transfer if transfer is not None and not transfer.done else None

    def start(self, model_id: str, source: Source, part: Path, final: Path) -> Transfer:
        """Start a download, or return the one already in flight for this model."""
        running = self.active(model_id)
        if running is not None:
            return running
        if self._session is None:
            self._session = self._session_factory()
        transfer = Transfer(model_id, source, part, final, self._session)
        self._active[model_id] = transfer
        started = self._started.pop(model_id, None)
        if started is not None:
            started.set()
        return transfer

    async def wait_started(self, model_id: str) -> Transfer:
        """The transfer in flight for ``model_id``, waiting for one to start if needed."""
        while (transfer := self.active(model_id)) is None:
            await self._started.setdefault(model_id, asyncio.Event()).wait()
        return transfer

    async def cancel(self, model_id: str) -> None:
        transfer = self.active(model_id)
        if transfer is not None:
            await transfer.cancel()

    async def close(self) -> None:
        for transfer in list(self._active.values()):
            if not transfer.done:
                await transfer.cancel()
        if self._session is not None:
            await self._session.close()
