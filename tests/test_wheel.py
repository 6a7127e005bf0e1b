"""The built wheel ships the front end (hatch drops gitignored files unless listed as artifacts)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_the_built_widget(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("pieces_widget-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pieces_widget/static/widget.js" in names
    assert "pieces_widget/static/widget.css" in names
    assert "pieces_widget/server/demo_catalog.json" in names
    assert "pieces_widget/py.typed" in names
    assert not any("node_modules" in n for n in names)
    js = zipfile.ZipFile(wheel).read("pieces_widget/static/widget.js")
    assert b"pieces-widget" in js
