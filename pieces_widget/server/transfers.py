"""Real model downloads: stream to ``.part``, resume with Range, sha256, fsync, atomic rename.

One ``Transfer`` per model at a time; a second download request for the same model joins it.
Watchers (progress WebSockets) get an ``asyncio.Event`` set on every change.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
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
# Writer threads: hashing and writing overlap with the network read of the next chunk.
_writer = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="transfer-io")


class TransferError(Exception):
    """Why a download failed, in words for the user."""


def _write_and_hash(f: BinaryIO, hasher: Any, chunk: bytes) -> None:
    hasher.update(chunk)
    f.write(chunk)


def _hash_prefix(path: Path, hasher: Any) -> None:
    with open(path, "rb") as f:
        while block := f.read(CHUNK * 4):
            hasher.update(block)


def _finish_file(part: Path, final: Path) -> None:
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, final)
    fsync_dir(final.parent)


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
            await loop.run_in_executor(_writer, _hash_prefix, self.part, self._hasher)
        self.bytes_done = offset
        if offset < total:
            offset = await self._fetch(offset)
        if offset != total:
            raise TransferError(f"source ended early: {offset} of {total} bytes")
        if self._hasher.hexdigest() != self.source.sha256:
            self.part.unlink(missing_ok=True)
            raise TransferError("checksum mismatch: the downloaded file was deleted")
        await loop.run_in_executor(_writer, _finish_file, self.part, self.final)

    async def _fetch(self, offset: int) -> int:
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
                return await self._stream(response, f, offset)

    async def _stream(self, response: aiohttp.ClientResponse, f: BinaryIO, offset: int) -> int:
        loop = asyncio.get_running_loop()
        pending: concurrent.futures.Future[None] | None = None
        try:
            async for chunk in response.content.iter_chunked(CHUNK):
                if offset + len(chunk) > self.source.bytes:
                    raise TransferError(f"source sent more than {self.source.bytes} bytes")
                pending = _writer.submit(_write_and_hash, f, self._hasher, chunk)
                await asyncio.wrap_future(pending, loop=loop)
                offset += len(chunk)
                self.bytes_done = offset
                self._changed()
        except asyncio.CancelledError:
            if pending is not None:  # never close the file under a write in flight
                concurrent.futures.wait([pending])
            raise
        return offset


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
