"""``wire.py`` written out for the front end: ``js/src/wire.gen.js`` (JSDoc typedefs of the shapes
that cross to the browser, and the lists both sides must agree on), so each fact is written once.

``python -m pieces_widget.widget.wire_js js/src/wire.gen.js`` writes it (``make build`` does);
``tests/test_wire.py`` fails when the committed file and ``wire.py`` differ.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from . import wire

SHAPES = {  # JSDoc name -> the TypedDict it is written from
    "Download": wire.DownloadEntry,
    "Connection": wire.Connection,
    "Resources": wire.Resources,
    "Runtime": wire.RuntimeInfo,
    "Capabilities": wire.Capabilities,
    "ViewPrefs": wire.ViewPrefs,
    "AddState": wire.AddState,
}
LISTS = {  # exported constant -> the Python sequence it is written from
    "TRAITS": wire.SYNCED_TRAITS,
    "COMMANDS": sorted(wire.COMMANDS),
    "SORT_KEYS": wire.SORT_KEYS,
}


def js_type(hint: Any) -> str:
    """A JSDoc type for a Python type hint of the wire."""
    origin = get_origin(hint)
    if hint is type(None):
        return "null"
    if hint is str:
        return "string"
    if hint in (int, float):
        return "number"
    if hint is bool:
        return "boolean"
    if origin is Literal:
        return " | ".join(f'"{value}"' for value in get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(dict.fromkeys(js_type(arg) for arg in get_args(hint)))
    if origin is dict:
        key, value = get_args(hint)
        return f"Record<{js_type(key)}, {js_type(value)}>"
    raise TypeError(f"no JSDoc type for {hint!r}: add it to wire_js.js_type")


def typedef(name: str, shape: type) -> str:
    hints = typing.get_type_hints(shape)
    required = getattr(shape, "__required_keys__", set(hints))
    fields = [
        f" *   {key}{'' if key in required else '?'}: {js_type(hint)},"
        for key, hint in hints.items()
    ]
    doc = (shape.__doc__ or "").strip().splitlines()[0]
    return "\n".join(["/**", f" * {doc}", " * @typedef {{", *fields, f" * }}}} {name}", " */"])


def generate() -> str:
    lines = [
        "// @ts-check",
        "// Generated from pieces_widget/widget/wire.py by",
        "// `python -m pieces_widget.widget.wire_js js/src/wire.gen.js`: do not edit.",
        "",
    ]
    lines += [typedef(name, shape) for name, shape in SHAPES.items()]
    for name, values in LISTS.items():
        lines.append(f"export const {name} = /** @type {{const}} */ ([")
        lines += [f'  "{value}",' for value in values]
        lines.append("]);")
    return "\n".join(lines) + "\n"


def emit(text: str, argv: list[str]) -> None:
    """Write a generated file to the path in ``argv``, or to stdout without one."""
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def main(argv: list[str]) -> None:
    emit(generate(), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
