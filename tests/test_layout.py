"""The map in CONTRIBUTING.md is true: the package's layers and the direction of their imports.

core <- widget, cli (and the server, which takes only the core's models); nothing in the core
imports the widget, the command line or the server; no module imports the package ``__init__``
(the version lives in ``_version``). Function-level imports count too: they are arrows as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pieces_widget"

# layer -> the layers it may import from (besides itself and ``_version``)
ALLOWED = {
    "core": set(),
    "widget": {"core"},
    "cli": {"core", "server"},  # `pieces-models serve` starts the server, lazily
    "server": {"core"},
    "demo": {"core", "server"},
    "top": {"core", "widget", "cli"},  # __init__ (lazy re-exports) and __main__
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    if len(parts) == 1:
        return "demo" if parts[0] == "demo.py" else "top"
    return parts[0]


def imported_layers(path: Path) -> set[str]:
    """The package layers ``path`` imports from (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(PACKAGE).parts[:-1]  # the module's package, inside pieces_widget
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - (node.level - 1)])
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.startswith("pieces_widget"):
                target = node.module.split(".")[1:]
            else:
                continue
            if not target:  # `from . import x` at the top, or `from .. import __version__`
                names = [a.name for a in node.names]
                target = [names[0]] if names else []
            found.add(_layer_name(target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pieces_widget."):
                    found.add(_layer_name(alias.name.split(".")[1:]))
    return found


def _layer_name(target: list[str]) -> str:
    head = target[0] if target else "__init__"
    if head in ("core", "widget", "cli", "server"):
        return head
    if head == "_version":
        return "_version"
    if head == "demo":
        return "demo"
    return f"top:{head}"  # the package __init__ or another top-level module


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path: Path) -> None:
    layer = layer_of(path)
    wrong = {
        target
        for target in imported_layers(path) - {"_version", layer}
        if target not in ALLOWED[layer]
    }
    assert not wrong, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(wrong)}"


def test_the_layers_named_in_contributing_exist() -> None:
    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for folder in ("core", "widget", "cli", "server"):
        assert (PACKAGE / folder / "__init__.py").exists()
        assert f"pieces_widget/{folder}/" in text, f"CONTRIBUTING.md does not map {folder}/"
