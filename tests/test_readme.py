"""The front door never lies: every shell command in README.md and CONTRIBUTING.md runs here, fast.

- ``make TARGET...`` runs as ``make -n TARGET...``: the targets exist and their recipes expand.
- ``python -m MODULE ...`` and the programs this project installs run with ``--help`` (after
  their subcommand, if any): they start, and every ``--option`` the README gives them exists.
- Paths the README names exist.
- A command that cannot run here is in ``SKIP`` with the reason; any other command fails.

Python and JSON blocks must parse, so a renamed argument or a stray comma shows too.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "CONTRIBUTING.md")
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
SHELLS = {"bash", "sh", "shell", "console"}
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# First words of commands that cannot run in a test, and why.
SKIP = {
    "pip": "changes the environment; `make install` runs the same install",
    "export": "sets a variable in your shell",
    "cd": "changes your shell's directory",
    "git": "talks to a remote",
    "echo": "prints; nothing to check",
}
OPERATORS = {"|", "||", "&", "&&", ";", "<"}


def blocks(kinds: set[str]) -> list[tuple[str, str, str]]:
    """(document, language, text) of every fenced block whose language is in ``kinds``."""
    found = []
    for doc in DOCS:
        path = REPO / doc
        if path.exists():
            found += [(doc, m[1], m[2]) for m in FENCE.finditer(path.read_text()) if m[1] in kinds]
    return found


def shell_commands() -> list[str]:
    """One string per command: comments dropped, continuation lines joined; in ``console``
    blocks only the lines after a ``$ `` prompt (the rest is output)."""
    commands = []
    for _, kind, text in blocks(SHELLS):
        for line in text.replace("\\\n", " ").splitlines():
            if kind == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if shlex.split(line, comments=True):
                commands.append(line.split(" #")[0].strip())
    return list(dict.fromkeys(commands))


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)


def _program(name: str) -> list[str] | None:
    if name == "python":
        return [sys.executable]
    if (BIN / name).exists():
        return [str(BIN / name)]
    found = shutil.which(name)
    return [found] if found else None


def _paths(words: list[str]) -> list[str]:
    """Relative paths: files of this repository (not options, URLs, placeholders, /tmp)."""
    not_paths = ("-", "http", "[", "/", "~")
    return [w for w in words if not w.startswith(not_paths) and re.search(r"/|\.(py|ipynb|md)$", w)]


def check(command: str) -> None:
    """Run ``command`` the fast way (see the module docstring); a pipe or a redirection ends
    the part that is checked (what follows is a standard tool or a file)."""
    words = shlex.split(command, comments=True)
    cut = [i for i, w in enumerate(words) if w in OPERATORS or w.startswith((">", "2>"))]
    words = words[: cut[0]] if cut else words
    head = words[0]
    if head in SKIP:
        return
    if head == "make":
        result = _run(["make", "-n", *words[1:]])
        assert result.returncode == 0, f"{command}: {result.stderr.strip()}"
        return
    program = _program(head)
    assert program is not None, f"{command}: unknown; run it here or add it to SKIP with a reason"
    if head == "python":
        assert words[1] == "-m", f"{command}: only `python -m MODULE` is checked"
        program, rest = [*program, "-m", words[2]], words[3:]
    else:
        rest = words[1:]
    if rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):  # a subcommand
        program, rest = [*program, rest[0]], rest[1:]
    result = _run([*program, "--help"])
    assert result.returncode == 0, f"{command}: --help failed: {result.stderr.strip()[-500:]}"
    missing = [o for o in OPTION.findall(" ".join(rest)) if o not in result.stdout]
    assert not missing, f"{command}: options not in its --help: {missing}"
    absent = [p for p in _paths(rest) if not (REPO / p).exists()]
    assert not absent, f"{command}: no such path: {absent}"


@pytest.mark.parametrize("command", shell_commands(), ids=lambda c: c[:60])
def test_shell_command(command: str) -> None:
    check(command)


@pytest.mark.parametrize(
    "lie",
    [
        "make no-such-target",
        "python -m pieces_widget.server --data-dir DIR --no-such-option 1",
        "marimo run notebooks/no_such_app.py",
        "no-such-program --version",
        "pieces-models list --no-such-option | cat",
    ],
)
def test_a_lie_fails(lie: str) -> None:
    with pytest.raises(AssertionError):
        check(lie)


def test_the_readme_has_commands() -> None:
    commands = shell_commands()
    assert "make demo" in commands and "make test" in commands, commands


@pytest.mark.parametrize("doc,kind,text", blocks({"python"}))
def test_python_blocks_parse(doc: str, kind: str, text: str) -> None:
    ast.parse(text, filename=doc)


@pytest.mark.parametrize("doc,kind,text", blocks({"json"}))
def test_json_blocks_parse(doc: str, kind: str, text: str) -> None:
    json.loads(text)
