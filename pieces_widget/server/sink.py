"""The flush pipeline of one download: chunks written, hashed and flushed to stable storage, each
step in its own thread (``pieces-transfer-disk``, ``-hash``, ``-flush``) so the event loop goes
on reading the network."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import hashlib
import os
from collections.abc import Callable
from typing import Any

CHUNK = 1 << 20
BACKLOG = 16  # chunks queued for the disk and hash threads before the network read waits
FLUSH_EVERY = 8 * CHUNK  # new bytes on disk before the next flush behind the writes starts
FLUSH_AHEAD = 32 * CHUNK  # received bytes past the running flush's start before we wait for it


class DiskError(Exception):
    """An ``OSError`` of the disk threads (apart from network errors, which are OSErrors too)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class Sink:
    """Writes and hashes chunks in order, each in its own thread (both release the GIL), so the
    event loop goes on reading the network: a transfer runs at the pace of its slowest step.
    ``written`` counts bytes in the file (what progress reports); ``queued`` what was received.

    A third thread keeps an ``fdatasync`` running behind the writes. Flushing this file's
    pending pages to stable storage costs time in proportion to how many there are: done once at
    the end, as curl + fsync would, it adds the whole flush to the download; done behind the
    writes, it overlaps the network and the final fsync has only the tail left. No flush may
    cover more than about ``FLUSH_AHEAD`` bytes: nothing interrupts one, not even SIGTERM, so on
    a slow disk (a USB drive) each must stay short.
    """

    def __init__(self, fd: int, hasher: Any, offset: int) -> None:
        self._fd = fd
        self._hasher = hasher
        self._disk = _one_thread("pieces-transfer-disk")
        self._hash = _one_thread("pieces-transfer-hash")
        self._flush = _one_thread("pieces-transfer-flush")
        self._pending: collections.deque[concurrent.futures.Future[Any]] = collections.deque()
        self.flushing: concurrent.futures.Future[None] | None = None  # the last flush started
        self.written = self._flushed = self.queued = offset

    def _write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise DiskError(exc) from exc
        self.written += len(chunk)

    def _sync_on_a_copy(self, sync: Callable[[int], None]) -> concurrent.futures.Future[None]:
        """Start ``sync`` in the flush thread on a copy of the file descriptor, which is closed
        however the flush ends (even cancelled before it ran): a cancel can close the file at
        once, without waiting for a slow disk."""
        try:
            fd = os.dup(self._fd)
        except OSError as exc:
            raise DiskError(exc) from exc

        def close_if_never_run(future: concurrent.futures.Future[None]) -> None:
            if future.cancelled():
                os.close(fd)

        try:
            future = self._flush.submit(_sync_and_close, fd, sync)
        except BaseException:
            os.close(fd)
            raise
        future.add_done_callback(close_if_never_run)
        self.flushing = future
        return future

    async def _flush_behind(self) -> None:
        """Start the next ``fdatasync`` once the last one is done and enough was written since;
        wait for the running one when the network got ``FLUSH_AHEAD`` bytes ahead of it."""
        flushing = self.flushing
        if flushing is not None:
            if not flushing.done():
                if self.queued - self._flushed <= FLUSH_AHEAD:
                    return
                await asyncio.wrap_future(flushing)
            flushing.result()  # a disk error stops us at once
        if self.written - self._flushed >= FLUSH_EVERY:
            self._flushed = self.written
            self._sync_on_a_copy(_datasync)

    async def put(self, chunk: bytes) -> None:
        self.queued += len(chunk)
        self._pending.append(self._hash.submit(self._hasher.update, chunk))
        self._pending.append(self._disk.submit(self._write, chunk))
        while self._pending and self._pending[0].done():  # a failed write stops us at once
            self._pending.popleft().result()
        while len(self._pending) > 2 * BACKLOG:
            await asyncio.wrap_future(self._pending.popleft())
        await self._flush_behind()

    async def drain(self) -> None:
        """Wait for every queued write, hash and flush (raising a disk error), e.g. before a
        retry."""
        while self._pending:
            await asyncio.wrap_future(self._pending.popleft())
        if self.flushing is not None:
            await asyncio.wrap_future(self.flushing)

    async def restart(self) -> None:
        """Start the file over (a source that ignored our Range request)."""
        await self.drain()
        os.ftruncate(self._fd, 0)
        self._hasher = hashlib.sha256()
        self.written = self._flushed = self.queued = 0

    async def finish(self) -> str:
        """Write, hash and flush what is queued, then fsync (the tail and the file's metadata)."""
        await self.drain()
        await asyncio.wrap_future(self._sync_on_a_copy(os.fsync))
        return self._hasher.hexdigest()

    def abort(self) -> None:
        """Drop queued work and wait for the running write, so the file can be closed (a
        flush in flight has its own descriptor and ends on its own: see ``Transfer._settle``)."""
        for future in self._pending:
            future.cancel()
        concurrent.futures.wait(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self._disk.shutdown(wait=True)
        self._hash.shutdown(wait=True)
        self._flush.shutdown(wait=False)


# fdatasync skips metadata the data does not need; macOS has only fsync.
_datasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def flush_error(flush: concurrent.futures.Future[None] | None) -> BaseException | None:
    """Why a finished flush failed; None when it is running, succeeded or never ran."""
    if flush is None or not flush.done() or flush.cancelled():
        return None
    return flush.exception()


def _one_thread(name: str) -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)


def _sync_and_close(fd: int, sync: Callable[[int], None]) -> None:
    """The flush thread's job: ``sync`` the file, then close the copy of its descriptor."""
    try:
        sync(fd)
    except OSError as exc:
        raise DiskError(exc) from exc
    finally:
        os.close(fd)
