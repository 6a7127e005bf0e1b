"""What ``state.json`` holds and its JSON: ``State`` and the operations on it, a file read
(a bad one set aside) and written, a journal line checked.

A change is an operation (edit, create, digest, remove) applied to an immutable ``State``
(copy on write: a new top-level dict, entries replaced, never changed in place), so a snapshot
can be written by a thread while the event loop goes on.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from .fields import lenient_fields

log = logging.getLogger("pieces_widget.server")
STATE_VERSION = 1
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


def set_aside(path: Path) -> str:
    """Rename a bad file out of the way; in words, where it went."""
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
            set_aside(path),
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
