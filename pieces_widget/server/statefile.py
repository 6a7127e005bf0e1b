"""The server's persisted state: ``state.json``, plus a journal once it grows large.

A request waits until its change (an operation on a ``State``, ``statecodec.py``) is durable,
and gets the disk's error if it is not (the state is then unchanged). How a change reaches the
disk depends on the size of the state:

- small (up to ``SMALL`` bytes, every test and most users): ``state.json`` is rewritten whole,
  atomically, as it always was;
- large (1,000 custom models are 4 MB): the change is appended as one line to
  ``state.journal`` and fdatasynced, a few hundred bytes instead of megabytes; once the journal
  outgrows the snapshot (and when the server stops) the state is written whole again.

Both run in one writer thread, never on the event loop, and changes that arrive while it
writes go together in the next write (a burst costs one fsync, not one each). A snapshot
carries a ``generation``, the journal's first line names the generation it extends: a
journal left behind by a crash just after a new snapshot is older, and ignored. A line torn by
a crash is ignored too (it was never acknowledged).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
from pathlib import Path

from .atomic import atomic_write
from .files import open_fd, pwrite
from .statecodec import Op, State, check_op, encode_state, read_state, set_aside

log = logging.getLogger("pieces_widget.server")
SMALL = 256 * 1024  # bytes of state below which a change rewrites state.json whole
COMPACT_AT = 1 << 20  # journal bytes (at least) before the state is written whole again


class StateFile:
    """``state.json`` and its journal: ``load`` once, then ``commit`` changes."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "state.json"
        self.journal_path = data_dir / "state.journal"
        self.state = State()
        self._generation = 0  # of the snapshot on disk
        self._snapshot_bytes = 0
        self._journal_fd: int | None = None  # open for appends once the first one comes
        self._journal_generation = -1  # the generation the open journal extends
        self._journal_end = 0  # bytes of whole lines in it
        self._journal_start = 0  # bytes of its header line
        self._pending: list[tuple[Op, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None

    # -- reading ------------------------------------------------------------------------------
    def load(self) -> State:
        state = read_state(self.path)
        if state is None:  # the journal extends a snapshot we no longer have
            if self.journal_path.exists():
                kept = set_aside(self.journal_path)
                log.warning("state.journal %s: it extends an unreadable snapshot", kept)
            self.state = State()
            return self.state
        self._generation = state.generation
        with contextlib.suppress(OSError):
            self._snapshot_bytes = self.path.stat().st_size
        self.state = self._replay(state)
        return self.state

    def _replay(self, state: State) -> State:
        try:
            fd = open_fd(self.journal_path, os.O_RDONLY)
        except FileNotFoundError:
            return state
        except OSError as exc:
            log.warning("state.journal cannot be read (%s): its changes are ignored", exc)
            return state
        with os.fdopen(fd, "rb") as f:
            raw = f.read()
        lines = raw.split(b"\n")[:-1]  # the last piece has no newline: torn, or empty
        try:
            header = json.loads(lines[0]) if lines else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("generation") != self._generation:
            return state  # older than the snapshot (or not ours): replaced at the next write
        skipped = 0
        end = len(lines[0]) + 1
        for line in lines[1:]:
            end += len(line) + 1
            try:
                op = check_op(json.loads(line))
            except ValueError:
                op = None
            if op is None:
                skipped += 1
                continue
            state = state.apply(op)
        if skipped:
            log.warning("state.journal: ignored %d unreadable changes", skipped)
        self._journal_generation = self._generation
        self._journal_start, self._journal_end = len(lines[0]) + 1, end
        return state

    # -- writing ------------------------------------------------------------------------------
    def submit(self, op: Op) -> asyncio.Future[None]:
        """Queue ``op``; the future is done once it is durable (or failed with an OSError)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((op, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_pending())
        return future

    async def commit(self, op: Op) -> None:
        await self.submit(op)

    def _writer_thread(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._thread is None:
            self._thread = concurrent.futures.ThreadPoolExecutor(1, "state-write")
        return self._thread

    async def _write_pending(self) -> None:
        loop = asyncio.get_running_loop()
        thread = self._writer_thread()
        while self._pending:
            batch, self._pending = self._pending, []
            candidate = self.state
            for op, _ in batch:
                candidate = candidate.apply(op)
            lines = b"".join(json.dumps(op).encode() + b"\n" for op, _ in batch)
            whole = self._snapshot_bytes + self._journal_end + len(lines) <= SMALL
            try:
                if whole:
                    await loop.run_in_executor(thread, self._write_snapshot, candidate)
                else:
                    await loop.run_in_executor(thread, self._append, lines)
            except OSError as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.state = candidate
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            if self._journal_end > max(COMPACT_AT, self._snapshot_bytes):
                await self._compact()

    async def _compact(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._writer_thread(), self._write_snapshot, self.state)
        except OSError as exc:  # the journal still holds every change: nothing is lost
            log.warning("cannot rewrite state.json (%s): the journal keeps growing", exc)

    def _write_snapshot(self, state: State) -> None:
        """The writer thread: ``state`` as the next generation of ``state.json``."""
        data = encode_state(state, self._generation + 1)
        atomic_write(self.path, data)
        self._generation += 1
        self._snapshot_bytes = len(data)
        self._journal_start = self._journal_end = 0  # the journal is older now: stale

    def _append(self, lines: bytes) -> None:
        """The writer thread: ``lines`` at the end of the journal, fdatasynced."""
        if self._journal_generation != self._generation:
            self._new_journal(self._generation)
        elif self._journal_fd is None:  # the one load() read: appends overwrite a torn tail
            self._journal_fd = open_fd(self.journal_path, os.O_RDWR)
        fd = self._journal_fd
        assert fd is not None
        try:
            offset = self._journal_end + len(lines)
            pwrite(fd, lines, self._journal_end)
            os.ftruncate(fd, offset)  # whatever a failed write had left past the end
            getattr(os, "fdatasync", os.fsync)(fd)  # macOS and Windows have only fsync
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._journal_end)
            raise
        self._journal_end = offset

    def _new_journal(self, generation: int) -> None:
        header = json.dumps({"generation": generation}).encode() + b"\n"
        atomic_write(self.journal_path, header)
        fd = open_fd(self.journal_path, os.O_RDWR)
        if self._journal_fd is not None:
            os.close(self._journal_fd)
        self._journal_fd, self._journal_generation = fd, generation
        self._journal_start = self._journal_end = len(header)

    async def close(self) -> None:
        """Write what is queued, fold the journal into ``state.json``, stop the thread."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer])
        if self._journal_end > self._journal_start:
            await self._compact()
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None
