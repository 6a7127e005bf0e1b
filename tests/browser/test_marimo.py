"""notebooks/marimo_demo.py served by ``marimo run`` in real Chromium, against the real reference
server: the manager through ``mo.ui.anywidget`` shows its rows, downloads with a rising bar, loads
and unloads; the app's ``widget.value`` summary follows the manager's own threads; no console
error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browserhosts import MarimoApp, launch_chromium
from playwright.sync_api import expect, sync_playwright
from serverproc import ServerProcess
from widgetpage import ConsoleErrors, catalog_names, download_load_unload, expect_rows

APP = Path(__file__).resolve().parents[2] / "notebooks" / "marimo_demo.py"

pytestmark = pytest.mark.browser


def test_marimo_app(
    tmp_path: Path, demo_catalog_server: ServerProcess, demo_catalog: list[dict[str, Any]]
) -> None:
    env = {"PIECES_OS_URL": demo_catalog_server.url}
    with MarimoApp(APP, tmp_path, env=env) as app, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = ConsoleErrors(page)
        page.goto(app.url())

        expect_rows(page, catalog_names(demo_catalog))
        summary = page.get_by_text(re.compile(r"widget\.value: \w+, models: \d+")).first
        # Set from the manager's threads, yet the summary cell re-ran (the app's mo.state bridge).
        expect(summary).to_contain_text(f"connected, models: {len(demo_catalog)}")
        download_load_unload(page, "demo-gemma-1.1-2b")
        expect(summary).to_contain_text("downloaded: 1, loaded: 0")

        browser.close()
    assert not errors.real(), errors.real()
