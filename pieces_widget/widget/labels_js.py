"""``core/labels.py``'s tables written out for the front end: ``js/src/labels.gen.js``, so the
widget and ``pieces-models show`` name every enum token and state with the same words.

``python -m pieces_widget.widget.labels_js js/src/labels.gen.js`` writes it (``make wire``);
``tests/test_labels.py`` fails when the committed file and ``labels.py`` differ.
"""

from __future__ import annotations

import json
import sys

from ..core import labels
from .wire_js import emit

TABLES = {  # exported constant -> (JSDoc type, the Python table it is written from)
    "WORDS": ("Record<string, string>", labels.WORDS),
    "JOINED": ("[string, string][]", [list(pair) for pair in labels.JOINED]),
    "HYPHENATED": ("string[]", list(labels.HYPHENATED)),
    "QUALIFIERS": ("string[]", list(labels.QUALIFIERS)),
    "PROVIDERS": ("Record<string, string>", labels.PROVIDERS),
    "ACRONYMS": ("string[]", list(labels.ACRONYMS)),
    "SMALL_WORDS": ("string[]", list(labels.SMALL_WORDS)),
    "STATE": ("Record<string, string>", labels.STATE),
    "STATE_SEPARATOR": ("string", labels.STATE_SEPARATOR),
}


def generate() -> str:
    lines = [
        "// @ts-check",
        "// Generated from pieces_widget/core/labels.py by",
        "// `python -m pieces_widget.widget.labels_js js/src/labels.gen.js`: do not edit.",
        "",
    ]
    for name, (jstype, value) in TABLES.items():
        text = json.dumps(value, indent=2, ensure_ascii=False)
        lines.append(f"export const {name} = /** @type {{{jstype}}} */ ({text});")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    emit(generate(), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
