"""One model's download: its status and progress frames, its watchers, cancel, and the order of
its steps (wait for the last flush, open the ``.part``, resume from what it holds, install it).

The bytes come from ``fetch.Fetcher`` (the http(s) side) through ``sink.Sink`` (the disk side);
the ``.part`` file itself (prefix hash, checksum and rename, removal, disk failures in words) is
``partfile.py``'s.
A transfer's end (status, ``finished``) is set by a done-callback of its task, never by code
inside it: a task cancelled before its first step never runs its own ``finally``, and a
download and a cancel that arrive together would otherwise leave the model downloading for good.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from ..core.models import CANCELED, COMPLETED, FAILED, INITIALIZED, TERMINAL_STATUSES
from . import partfile, resume
from .catalog import Source
from .fetch import Fetcher
from .habits import Habits
from .partfile import TransferError
from .sink import DiskError, Sink, flush_error
from .sources import SourceError, SourceOptions
from .store import regular_size

log = logging.getLogger("pieces_widget.server")


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
        self._on_done = on_done
        self._on_disk = regular_size(part) or 0
        self._sink: Sink | None = None
        self._fetcher = Fetcher(
            model_id, source, part, session, options, habits, self._set_status, self._changed
        )
        self._after = after  # the last flush of this model's previous transfer
        self.last_flush: concurrent.futures.Future[None] | None = None  # for the next one
        self._watchers: set[asyncio.Event] = set()
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._task.add_done_callback(self._end)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def resets(self) -> int:
        """Times the transfer started over (each a ``RESET`` frame)."""
        return self._fetcher.resets

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
            partfile.discard(self.part)
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
            partfile.discard(self.part)
            self._on_disk = 0
        f = partfile.open_part(self.part)
        try:
            with f:
                digest = await self._download_into(f.fileno())
        except BaseException:
            if regular_size(self.part) == 0:  # nothing to resume: no 0-byte .part left behind
                partfile.discard(self.part)
            raise
        partfile.install(self.part, self.final, digest, self.source.sha256)
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
            partfile.discard(self.part)
            self._on_disk = 0

    async def _download_into(self, fd: int) -> str:
        total = self.source.bytes
        offset = os.fstat(fd).st_size
        if offset:
            self._fetcher.validator = resume.load(self.part, self.source.url)
        validator = self._fetcher.validator
        if offset > total or (offset and validator is None and self.source.sha256 is None):
            # Bytes of an unknown version that nothing could check at the end: start over.
            log.info("%r: the partial file cannot be checked: downloading from 0", self.model_id)
            os.ftruncate(fd, 0)
            offset = 0
        hasher = await partfile.hash_prefix(fd, offset)
        sink = self._sink = Sink(fd, hasher, offset)
        try:
            if offset < total:
                await self._fetcher.run(sink)
            return await sink.finish()
        except BaseException as exc:
            sink.abort()  # never close the file under a write in flight
            if isinstance(exc, DiskError):
                failure = partfile.disk_failure(exc.error, self.part, sink, total)
                raise TransferError(failure) from None
            raise
        finally:
            self.last_flush = sink.flushing
            sink.close()
