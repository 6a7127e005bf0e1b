"""Real model downloads: stream to ``.part``, resume with Range, sha256, fsync, atomic rename.

One ``Transfer`` per model at a time; a second download request for the same model joins it.
Watchers (progress WebSockets) get an ``asyncio.Event`` set on every change.

A transfer's end (status, ``finished``) is set by a done-callback of its task, never by code
inside it: a task cancelled before its first step never runs its own ``finally``, and a
download and a cancel that arrive together would otherwise leave the model downloading for good.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import errno
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from ..core.models import (
    CANCELED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    INITIALIZED,
    RESET,
    TERMINAL_STATUSES,
    readable_bytes,
)
from .catalog import Source
from .files import fsync_dir, open_fd, pread
from .habits import Habits
from .sources import (
    MAX_REDIRECTS,
    SourceError,
    SourceOptions,
    content_range_start,
    describe_client_error,
    disk_error,
    session_factory,
    status_error,
)
from .store import regular_size

log = logging.getLogger("pieces_widget.server")
CHUNK = 1 << 20
BACKLOG = 16  # chunks queued for the disk and hash threads before the network read waits
FLUSH_EVERY = 8 * CHUNK  # new bytes on disk before the next flush behind the writes starts
FLUSH_AHEAD = 32 * CHUNK  # received bytes past the running flush's start before we wait for it


class TransferError(Exception):
    """Why a download failed, in words for the user."""


class _StartOver(Exception):
    """The transfer passed ``Habits.reset_at``: drop what was received and start from byte 0."""


class DiskError(Exception):
    """An ``OSError`` of the disk threads (apart from network errors, which are OSErrors too)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Sink:
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


def _hash_prefix(fd: int, size: int, hasher: Any, stop: threading.Event) -> None:
    offset = 0
    while offset < size and not stop.is_set():
        block = pread(fd, min(CHUNK * 4, size - offset), offset)
        if not block:
            break
        hasher.update(block)
        offset += len(block)


class Transfer:
    """One model's download, running as an asyncio task in the server's loop."""

    def __init__(
        self,
        model_id: str,
        source: Source,
        part: Path,
        final: Path,
        session: aiohttp.ClientSession,
        options: SourceOptions,
        on_done: Callable[[Transfer], None] | None = None,
        after: concurrent.futures.Future[None] | None = None,
        habits: Habits | None = None,
    ) -> None:
        self.model_id = model_id
        self.source = source
        self.part = part
        self.final = final
        self.status = INITIALIZED
        self.error: str | None = None
        self.digest: str | None = None
        self.finished = asyncio.Event()
        self.habits = habits = habits or Habits()
        self.pending = habits.start_delay > 0  # accepted, but the transfer has not begun
        self.resets = 0  # times the transfer started over (RESET frames)
        self._session = session
        self._options = options
        self._on_done = on_done
        self._on_disk = regular_size(part) or 0
        self._sink: _Sink | None = None
        self._after = after  # the last flush of this model's previous transfer
        self.last_flush: concurrent.futures.Future[None] | None = None  # for the next one
        self._watchers: set[asyncio.Event] = set()
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._task.add_done_callback(self._end)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def bytes_done(self) -> int:
        """Bytes of the model in the ``.part`` file (written, not just received)."""
        sink = self._sink
        return sink.written if sink is not None else self._on_disk

    def frame(self) -> dict[str, Any]:
        """The current state as a ``ModelDownloadProgress`` JSON object (+ ``error``)."""
        if self.pending and self.status == INITIALIZED:
            return {"status": INITIALIZED}  # no percentage before the transfer begins
        if self.status == COMPLETED:
            percentage = 100.0
        else:
            done = min(self.bytes_done, self.source.bytes)
            percentage = round(done * 100 / self.source.bytes, 2)
        frame: dict[str, Any] = {"status": self.status, "percentage": percentage}
        if self.status == FAILED:
            frame["error"] = self.error
        return frame

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

    async def cancel(self) -> None:
        """Stop the transfer (keeping ``.part`` for a later resume) and wait until it has."""
        self._task.cancel()
        await self.finished.wait()

    def _end(self, task: asyncio.Task[str]) -> None:
        """The task's done-callback: runs however the task ended, even cancelled unstarted."""
        if task.cancelled():
            status = CANCELED
        elif (exc := task.exception()) is not None:
            status = FAILED
            if isinstance(exc, (TransferError, SourceError)):
                self.error = str(exc)
                log.warning("download of %r failed: %s", self.model_id, self.error)
            else:
                self.error = f"internal error: {exc!r}"
                log.error("download of %r failed", self.model_id, exc_info=exc)
        else:
            status = COMPLETED
            self.digest = task.result()
        self._sink = None
        if status == CANCELED and self.habits.cancel_discards:
            self.part.unlink(missing_ok=True)
        self._on_disk = self.source.bytes if status == COMPLETED else regular_size(self.part) or 0
        self.status = status
        self.finished.set()
        self._changed()
        if self._on_done is not None:
            self._on_done(self)

    def _set_status(self, status: str) -> None:
        self.status = status
        self._changed()

    async def _run(self) -> str:
        """Download to ``.part``, check, rename; returns the sha256 of the file."""
        if self.pending:
            await asyncio.sleep(self.habits.start_delay)
            self.pending = False
            self._changed()
        await self._settle()
        if self.habits.cancel_discards:  # no partial is ever resumed: every download from 0
            self.part.unlink(missing_ok=True)
            self._on_disk = 0
        try:
            f = _open_part(self.part)
        except OSError as exc:
            raise TransferError(disk_error(exc, str(self.part.parent))) from None
        with f:
            digest = await self._download_into(f.fileno())
        if self.source.sha256 is not None and digest != self.source.sha256:
            self.part.unlink(missing_ok=True)
            raise TransferError(
                "checksum mismatch: the file does not have the expected sha256, it was deleted"
            )
        try:
            os.replace(self.part, self.final)
            fsync_dir(self.final.parent)
        except OSError as exc:
            raise TransferError(disk_error(exc, str(self.final.parent))) from None
        return digest

    async def _settle(self) -> None:
        """Wait for the flush a cancelled transfer of this model left running. If it failed, the
        ``.part``'s bytes may be in memory only, and a resume would trust them (the kernel
        reports a write-back error once, and that flush saw it): start the file over."""
        flush = self._after
        if flush is None:
            return
        await asyncio.wait([asyncio.wrap_future(flush)])
        if (exc := flush_error(flush)) is not None:
            log.warning("%r: the last flush failed (%s): downloading from 0", self.model_id, exc)
            self.part.unlink(missing_ok=True)
            self._on_disk = 0

    async def _download_into(self, fd: int) -> str:
        total = self.source.bytes
        offset = os.fstat(fd).st_size
        if offset > total:
            os.ftruncate(fd, 0)
            offset = 0
        hasher = hashlib.sha256()
        if offset:
            stop = threading.Event()
            hashing = asyncio.get_running_loop().run_in_executor(
                None, _hash_prefix, fd, offset, hasher, stop
            )
            try:
                await asyncio.shield(hashing)
            except asyncio.CancelledError:
                stop.set()  # the thread reads our fd: let it finish before the fd is closed,
                while not hashing.done():  # even through a second cancel (a shutdown)
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait([hashing])
                raise
        sink = self._sink = _Sink(fd, hasher, offset)
        try:
            if offset < total:
                await self._fetch_with_retries(sink)
            return await sink.finish()
        except BaseException as exc:
            sink.abort()  # never close the file under a write in flight
            if isinstance(exc, DiskError):
                raise TransferError(self._disk_failure(exc.error, sink)) from None
            raise
        finally:
            self.last_flush = sink.flushing
            sink.close()

    def _disk_failure(self, exc: OSError, sink: _Sink) -> str:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # A partial file must not keep the disk full: remove it (decided; see README).
            self.part.unlink(missing_ok=True)
            return (
                f"disk full after {readable_bytes(sink.written)} of "
                f"{readable_bytes(self.source.bytes)}: the partial file was removed to free "
                "the space; free some disk space and download again"
            )
        if flush_error(sink.flushing) is not None:
            # The written bytes may be in memory only, and the kernel will not say so again.
            self.part.unlink(missing_ok=True)
            return f"{disk_error(exc, str(self.part.parent))}; the partial file was removed"
        return disk_error(exc, str(self.part.parent))

    async def _fetch_with_retries(self, sink: _Sink) -> None:
        options = self._options
        failures = 0
        while True:
            before = sink.queued
            try:
                await self._fetch(sink)
                return
            except _StartOver:
                await sink.restart()
                self.resets += 1
                self._set_status(RESET)
                continue
            except SourceError as exc:
                error = exc
            except aiohttp.ClientError as exc:
                error = describe_client_error(exc, options.stall_timeout)
            except asyncio.TimeoutError as exc:
                error = describe_client_error(exc, options.stall_timeout)
            if not error.retry:
                raise error
            failures = 1 if sink.queued > before else failures + 1
            if failures > options.retries:
                raise SourceError(f"{error} (gave up after {options.retries} retries)")
            delay = options.delay(failures)
            log.info("download of %r: %s; retry %d in %.1fs", self.model_id, error, failures, delay)
            await sink.drain()
            await asyncio.sleep(delay)

    async def _fetch(self, sink: _Sink) -> None:
        """One request from ``sink.queued`` to the end."""
        total = self.source.bytes
        offset = sink.queued
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        async with self._session.get(
            self.source.url, headers=headers, max_redirects=MAX_REDIRECTS + 1
        ) as response:
            if offset and response.status == 206:
                start = content_range_start(response.headers.get("Content-Range"))
                if start != offset:
                    raise SourceError(f"the source sent bytes from {start}, not from {offset}")
            elif response.status == 200:
                if offset:  # the source ignored Range: start over
                    await sink.restart()
            else:
                raise status_error(response.status, response.reason)
            self._set_status(IN_PROGRESS)
            async for chunk in response.content.iter_chunked(CHUNK):
                if sink.queued + len(chunk) > total:
                    raise SourceError(f"the source sent more than the expected {total} bytes")
                await sink.put(chunk)
                if self._reset_due(sink.queued):
                    raise _StartOver
                self._changed()
        if sink.queued != total:
            raise SourceError(f"the source ended early: {sink.queued} of {total} bytes", True)

    def _reset_due(self, received: int) -> bool:
        """Whether this transfer just passed ``Habits.reset_at`` for the first time."""
        reset_at = self.habits.reset_at
        return (
            reset_at is not None
            and self.resets == 0
            and received * 100 >= reset_at * self.source.bytes
        )


def _open_part(path: Path) -> Any:
    """The ``.part`` file for appending and reading back, never through a symlink."""
    fd = open_fd(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
    return os.fdopen(fd, "a+b", buffering=0)


class Transfers:
    """The transfers of one server: at most one in flight per model."""

    def __init__(
        self,
        options: SourceOptions | None = None,
        on_done: Callable[[Transfer], None] | None = None,
        habits: Habits | None = None,
    ) -> None:
        self.options = options or SourceOptions()
        self.habits = habits or Habits()
        self._session_factory = session_factory(self.options)
        self._session: aiohttp.ClientSession | None = None
        self._on_done = on_done
        self._active: dict[str, Transfer] = {}
        self._started: dict[str, asyncio.Event] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def active(self, model_id: str) -> Transfer | None:
        transfer = self._active.get(model_id)
        return transfer if transfer is not None and not transfer.done else None

    def start(self, model_id: str, source: Source, part: Path, final: Path) -> Transfer:
        """Start a download, or return the one already in flight for this model."""
        running = self.active(model_id)
        if running is not None:
            return running
        previous = self._active.get(model_id)
        transfer = Transfer(
            model_id,
            source,
            part,
            final,
            self.session,
            self.options,
            self._on_done,
            after=previous.last_flush if previous is not None else None,
            habits=self.habits,
        )
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

    def forget(self, model_id: str) -> None:
        """Drop a finished transfer of a model that no longer exists."""
        transfer = self._active.get(model_id)
        if transfer is not None and transfer.done:
            del self._active[model_id]

    async def close(self) -> None:
        running = [t for t in self._active.values() if not t.done]
        if running:
            await asyncio.gather(*(t.cancel() for t in running))
        if self._session is not None:
            await self._session.close()
