"""What ``pieces-models`` prints: exit codes, tables, JSON records, one-line errors.

Server strings reach a terminal here, so control characters in them are replaced (a model
name must not move the cursor or change colours).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..core.labels import enum_label, foundation_label, provider_label, quantization_label
from ..core.numbers import (
    kept_percent,
    readable_bytes,
    readable_parameters,
    readable_percent,
    readable_tokens,
)

if TYPE_CHECKING:
    from ..core.models import Model

PROG = "pieces-models"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class CliFailure(Exception):
    """A failure the command line reports in one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def clean(text: str) -> str:
    """``text`` safe for a terminal: control characters (and lone surrogates, which no
    terminal encoding can carry) become ``?``."""
    return _CONTROL.sub("?", text)


def size(n: int | None) -> str:
    return "-" if n is None else readable_bytes(n)


SORTS = ("name", "size", "ram", "state")


def name_key(name: str) -> str:
    """The widget's sort key for names (js/src/catalog.js nameKey): case and accents folded,
    numbers by value ("Model 2" before "Model 10")."""
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).lower()
    return re.sub(r"\d+", lambda m: m.group().rjust(12, "0"), folded)


def _state_rank(model: Model) -> int:
    """Loaded first, then downloading, on device, available, cloud (as the widget sorts)."""
    if model.loaded:
        return 0
    if model.downloading:
        return 1
    if model.cloud:
        return 4
    return 2 if model.downloaded else 3


def sort_models(models: Iterable[Model], by: str = "name") -> list[Model]:
    """``models`` in the widget's order for ``by`` (sizes and RAM biggest first, ties by name)."""
    keys = {
        "name": lambda m: (name_key(m.name),),
        "size": lambda m: (-(m.bytes if m.bytes is not None else -1), name_key(m.name)),
        "ram": lambda m: (-(m.ram if m.ram is not None else -1), name_key(m.name)),
        "state": lambda m: (_state_rank(m), name_key(m.name)),
    }
    return sorted(models, key=keys.get(by, keys["name"]))


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def resume_hint(model: Model) -> str:
    """What a new pull of a stopped download does: resume only where the server says it kept a
    partial file (``partialBytes``); Pieces OS may start over."""
    kept = kept_percent(model.partial_bytes, model.bytes)
    if kept is not None:
        return f"{readable_percent(kept)} is kept: the next `{PROG} pull` resumes from there"
    return f"`{PROG} pull` starts it again"


def model_record(model: Model) -> dict[str, Any]:
    """The JSON a script gets for one model (``show --json`` adds the server's ``raw``)."""
    error = model.raw.get("error")
    return {
        "id": model.id,
        "name": model.name,
        "state": model.state,
        "bytes": model.bytes,
        "ram": model.ram,
        "downloaded": model.downloaded,
        "downloading": model.downloading,
        "loaded": model.loaded,
        "cloud": model.cloud,
        "custom": model.custom,
        "foundation": model.foundation,
        "provider": model.provider,
        "version": model.version,
        "description": model.description,
        "error": error if isinstance(error, str) and error else None,
    }


# The labelled fields of ``show``, named and said as the widget's Details panel says them
# (js/src/state.js detailFields): no raw enum tokens.
DETAILS = (
    "State", "Version", "Foundation", "Provider", "Quantization", "Parameters", "Context",
    "Size", "RAM", "Partial download", "Type", "Usage", "Runs on", "Description", "Id",
    "Last error",
)  # fmt: skip


def detail_fields(model: Model) -> list[tuple[str, str]]:
    """``show``'s fields in words for people, each made terminal-safe; empty ones left out."""
    raw = model.raw
    tokens = raw.get("maxTokens")
    cpu = raw.get("cpu")
    text = {
        "State": model.state_text,
        "Version": model.version or "",
        "Foundation": foundation_label(model.foundation),
        "Provider": provider_label(model.provider),
        "Quantization": quantization_label(model.quantization),
        "Parameters": readable_parameters(_number(raw.get("parameters")), "billion"),
        "Context": readable_tokens(
            _number(tokens.get("total") if isinstance(tokens, dict) else None)
        ),
        "Size": "" if model.bytes is None else readable_bytes(model.bytes),
        "RAM": "" if model.ram is None else readable_bytes(model.ram),
        "Partial download": readable_bytes(model.partial_bytes) if model.partial_bytes else "",
        "Type": enum_label(_text(raw.get("type"))),
        "Usage": enum_label(_text(raw.get("usage"))),
        "Runs on": "" if not isinstance(cpu, bool) else "CPU" if cpu else "GPU",
        "Description": model.description or "",
        "Id": model.id,
        "Last error": model.error or "",
    }
    return [(key, clean(text[key])) for key in DETAILS if text[key]]


def _number(value: Any) -> float | None:
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Output:
    """stdout for results (text, or JSON with ``--json``), stderr for errors and questions."""

    def __init__(self, json: bool = False, quiet: bool = False) -> None:
        self.json = json
        self.quiet = quiet
        self.stdout = sys.stdout
        self.stderr = sys.stderr

    @property
    def chatty(self) -> bool:
        return not (self.json or self.quiet)

    @property
    def bars(self) -> bool:
        """tqdm bars only for a person at a terminal."""
        return self.chatty and self.stdout.isatty()

    def say(self, line: str) -> None:
        if self.chatty:
            print(clean(line), file=self.stdout, flush=True)

    def lines(self, lines: Iterable[str]) -> None:
        """Lines of results; a server's text in them cannot move the cursor or change colours."""
        if not self.json:
            for line in lines:
                print(clean(line), file=self.stdout)
            self.stdout.flush()

    def data(self, value: Any) -> None:
        if self.json:
            json.dump(value, self.stdout, indent=2)
            self.stdout.write("\n")
            self.stdout.flush()

    def table(
        self,
        header: Sequence[str] | None,
        rows: Sequence[Sequence[str]],
        right: Iterable[int] = (),
        shrink: int | None = None,
    ) -> None:
        """Columns two spaces apart; those in ``right`` right-aligned (sizes). When the table is
        wider than the terminal (80 columns when there is none), column ``shrink`` is cut
        with "…" (never below 12 characters) so that no line wraps."""
        rows = [[clean(cell) for cell in row] for row in rows]
        if header is not None:
            rows.insert(0, list(header))
        if not rows:
            return
        columns = len(rows[0])
        widths = [max(len(row[i]) for row in rows) for i in range(columns)]
        room = shutil.get_terminal_size((80, 24)).columns - 1  # a full last column wraps
        over = sum(widths) + 2 * (columns - 1) - room
        if shrink is not None and over > 0:
            widths[shrink] = max(12, widths[shrink] - over)
            for row in rows:
                row[shrink] = _fit(row[shrink], widths[shrink])
        right = set(right)
        self.lines(
            "  ".join(
                cell.rjust(w) if i in right else (cell if i == columns - 1 else cell.ljust(w))
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in rows
        )

    def error(self, message: str) -> None:
        """One line; a server's text in it cannot move the cursor or change colours."""
        line = clean(" ".join(message.split()))
        print(f"{PROG}: error: {line}", file=self.stderr, flush=True)

    def confirm(self, question: str) -> bool:
        self.stderr.write(f"{question} [y/N] ")
        self.stderr.flush()
        answer = sys.stdin.readline()
        return answer.strip().lower() in ("y", "yes")
