"""The server's persisted state: ``state.json``, plus a journal once it grows large.

A change is an operation (edit, create, digest, remove) applied to an immutable ``State``
(copy on write: a new top-level dict, entries replaced, never changed in place), so a snapshot
can be written by a thread while the event loop goes on. A request waits until its change is
durable, and gets the disk's error if it is not (the state is then unchanged).

How a change reaches the disk depends on the size of the state:

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
import time
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .fields import lenient_fields
from .files import open_fd, pwrite

log = logging.getLogger("pieces_widget.server")
STATE_VERSION = 1
SMALL = 256 * 1024  # bytes of state below which a change rewrites state.json whole
COMPACT_AT = 1 << 20  # journal bytes (at least) before the state is written whole again
OPS = ("edit", "create", "digest", "remove")
Op = dict[str, Any]


class StateError(ValueError):
    """state.json is not the shape this server writes."""


class State:
    """The content of ``state.json``. Never changed in place once built: ``apply`` returns a
    new one that shares what did not change."""

    def __init__(self) -> None:
        self.edits: dict[str, dict[str, Any]] = {}
        self.created: dict[str, dict[str, Any]] = {}  # id -> {"model": ..., "source": ...}
        self.removed: list[str] = []
        self.generation = 0  # as read from a file; StateFile numbers what it writes

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "edits": self.edits,
            "created": self.created,
            "removed": self.removed,
        }

    @classmethod
    def parse(cls, data: Any) -> State:
        state = cls()
        if not isinstance(data, dict):
            raise StateError("not a JSON object")
        edits, created, removed = (
            data.get("edits", {}),
            data.get("created", {}),
            data.get("removed", []),
        )
        if not isinstance(edits, dict) or not all(isinstance(v, dict) for v in edits.values()):
            raise StateError("'edits' is not an object of objects")
        if not isinstance(created, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("model"), dict) for v in created.values()
        ):
            raise StateError("'created' is not an object of {model, source} objects")
        if not isinstance(removed, list) or not all(isinstance(i, str) for i in removed):
            raise StateError("'removed' is not a list of ids")
        dropped = 0
        for model_id, fields in edits.items():
            state.edits[model_id], lost = lenient_fields(fields)  # read-only fields go here
            dropped += len(lost)
        if dropped:
            log.warning("state.json: ignored %d read-only or invalid edited fields", dropped)
        state.created = created
        state.removed = removed
        generation = data.get("generation", 0)
        state.generation = generation if type(generation) is int and generation >= 0 else 0
        return state

    def apply(self, op: Op) -> State:
        """This state with ``op`` done (a checked operation: see ``check_op``)."""
        new = State()
        new.edits, new.created, new.removed = self.edits, self.created, self.removed
        kind, model_id = op["op"], op["id"]
        if kind == "edit":
            merged = {**self.edits.get(model_id, {}), **op["fields"]}
            new.edits = {**self.edits, model_id: merged}
        elif kind == "create":
            new.created = {**self.created, model_id: op["record"]}
        elif kind == "digest":
            record = self.created.get(model_id)
            if record is not None:
                new.created = {**self.created, model_id: {**record, "source": op["source"]}}
        elif kind == "remove":
            new.created = {k: v for k, v in self.created.items() if k != model_id}
            new.edits = {k: v for k, v in self.edits.items() if k != model_id}
            if op["forget"] and model_id not in self.removed:
                new.removed = [*self.removed, model_id]
        return new


def check_op(op: Any) -> Op | None:
    """A journal line's operation if it has the shape ``apply`` needs, else None."""
    if not isinstance(op, dict) or op.get("op") not in OPS or not isinstance(op.get("id"), str):
        return None
    kind = op["op"]
    if kind == "edit" and isinstance(op.get("fields"), dict):
        return {**op, "fields": lenient_fields(op["fields"])[0]}
    if kind == "create" and isinstance(op.get("record"), dict):
        return op if isinstance(op["record"].get("model"), dict) else None
    if kind == "digest" and isinstance(op.get("source"), dict):
        return op
    if kind == "remove" and isinstance(op.get("forget"), bool):
        return op
    return None


def _aside(path: Path) -> str:
    aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    try:
        os.replace(path, aside)
    except OSError as move_error:
        return f"could not be moved aside ({move_error.strerror})"
    return f"kept aside as {aside.name}"


def read_state(path: Path) -> State | None:
    """The state in ``path`` (empty when there is none); a bad file is renamed aside with one
    warning line, and None returned."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return State()
    try:
        return State.parse(json.loads(raw.decode("utf-8")))
    # RecursionError: nesting deeper than the decoder goes (e.g. 100000 '[').
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, StateError) as exc:
        reason = str(exc).splitlines()[0][:120] if raw else "empty file"
        log.warning(
            "state.json is unreadable (%s): %s; starting with no edits or created models",
            reason,
            _aside(path),
        )
        return None


def encode_state(state: State, generation: int) -> bytes:
    """``state`` as JSON, one entry a line, each encoded on its own: a thread doing this lets
    the event loop run between entries (one ``json.dumps`` of 4 MB would hold the GIL for
    tens of milliseconds)."""

    def block(name: str, items: dict[str, Any]) -> str:
        lines = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in items.items()]
        return f'"{name}": {{\n' + ",\n".join(lines) + "\n}"

    head = f'{{"version": {STATE_VERSION}, "generation": {generation}, '
    removed = f'"removed": {json.dumps(state.removed)},\n'
    body = block("edits", state.edits) + ",\n" + block("created", state.created)
    return (head + removed + body + "}\n").encode()


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
                kept = _aside(self.journal_path)
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
