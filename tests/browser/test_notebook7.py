"""The demo notebook in real Notebook 7 (``jupyter notebook``) in real Chromium, against the real
reference server: rows, a download with a rising bar, Load, Unload, no console error of ours."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from browserhosts import JupyterNotebook, launch_chromium
from playwright.sync_api import expect, sync_playwright
from serverproc import ServerProcess
from widgetpage import ConsoleErrors, button, catalog_names, download_load_unload, expect_rows, row

ROOT = Path(__file__).resolve().parents[2]
# Notebook 7.6's own bundle throws this while it loads any notebook, widget or not.
NOTEBOOK_NOISE = ("/static/notebook/notebook_core",)

pytestmark = pytest.mark.browser


def test_demo_notebook_in_notebook7(
    tmp_path: Path, demo_catalog_server: ServerProcess, demo_catalog: list[dict[str, Any]]
) -> None:
    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "demo.ipynb", work / "demo.ipynb")
    env = {"PIECES_OS_URL": demo_catalog_server.url}
    with JupyterNotebook(work, tmp_path, env=env) as notebook, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = ConsoleErrors(page, ignore=NOTEBOOK_NOISE)
        notebook.run_all(page, "demo.ipynb")

        expect_rows(page, catalog_names(demo_catalog))
        # The last cell's ensure(load=True) downloads and loads Phi-3 while the widget watches.
        expect(button(row(page, "demo-phi-3-mini"), "Unload")).to_be_visible(timeout=60_000)
        download_load_unload(page, "demo-gemma-1.1-2b")

        assert page.get_by_text("Error displaying widget").count() == 0
        browser.close()
    assert not errors.real(), errors.real()
