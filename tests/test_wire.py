"""wire.py is the one source of what crosses to the browser: the generated JS is up to date, and
the manager's synced traits, commands and sort keys are the ones wire.py lists."""

from __future__ import annotations

import re
from pathlib import Path

from pieces_widget import ModelManager
from pieces_widget.widget import wire, wire_js
from pieces_widget.widget.commands import TABLE as COMMAND_TABLE

JS = Path(__file__).resolve().parents[1] / "js" / "src"


def test_the_generated_js_is_up_to_date() -> None:
    committed = (JS / "wire.gen.js").read_text(encoding="utf-8")
    assert committed == wire_js.generate(), (
        "js/src/wire.gen.js differs from wire.py: run `make wire` (or "
        "`python -m pieces_widget.widget.wire_js js/src/wire.gen.js`) and commit it"
    )


def test_every_wire_shape_has_a_js_type() -> None:
    text = wire_js.generate()
    for name, shape in wire_js.SHAPES.items():
        assert f"}}}} {name}\n" in text
        for key in shape.__annotations__:
            assert re.search(rf"^ \*   {key}\??: ", text, re.M), (name, key)


def test_the_managers_synced_traits_are_the_wire_list() -> None:
    ours = {
        name
        for name, trait in ModelManager.class_traits(sync=True).items()
        if name in ModelManager.__dict__ or name in ("models", "downloads")
    }
    ours = {n for n in ours if not n.startswith(("_esm", "_css", "_anywidget"))}
    assert ours - {"error"} == set(wire.SYNCED_TRAITS)


def test_commands_and_sort_keys_agree_everywhere() -> None:
    assert set(COMMAND_TABLE) == wire.COMMANDS
    header = (JS / "header.js").read_text(encoding="utf-8")
    shown = re.findall(r'\["(\w+)", "[^"]+"\]', header[header.index("SORTS") :])
    assert tuple(shown[: len(wire.SORT_KEYS)]) == wire.SORT_KEYS
