"""What ``pieces-models`` prints: exit codes, tables, JSON records, one-line errors.

Server strings reach a terminal here, so control characters in them are replaced (a model
name must not move the cursor or change colours).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

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
    from ..core.models import readable_bytes

    return "-" if n is None else readable_bytes(n)


def resume_hint(model: Model) -> str:
    """What a new pull of a stopped download does: resume only where the server says it kept a
    partial file (``partialBytes``); Pieces OS may start over."""
    if model.partial_bytes and model.bytes:
        kept = min(99, model.partial_bytes * 100 // model.bytes)
        return f"{kept} % is kept: the next `{PROG} pull` resumes from there"
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

    def table(self, header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
        rows = [[clean(cell) for cell in row] for row in rows]
        if header is not None:
            rows.insert(0, list(header))
        if not rows:
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        self.lines(
            "  ".join(
                [*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]
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
