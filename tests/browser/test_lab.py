"""The widget in real JupyterLab in real (Debian) Chromium against the real reference server:
run the demo notebook, download with a rising progress bar, load, unload, cancel, an alert, the
server going away and coming back, a hostile model name, screenshots in light and dark themes."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from browserhosts import IDLE, JupyterLab, launch_chromium
from playwright.sync_api import expect, sync_playwright
from serverproc import ServerProcess, write_catalog
from waiting import page_wait
from widgetpage import lab_theme
from widgetpage import progress_values as _progress_values
from widgetpage import row as _row

from pieces_widget.server.catalog import DEMO_CATALOG

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1"><b>Bold?</b>'

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[ServerProcess]:
    catalog = json.loads(DEMO_CATALOG.read_text())
    catalog.append({"id": "hostile", "name": HOSTILE_NAME, "cloud": True})
    path = write_catalog(tmp_path / "catalog.json", catalog)
    with ServerProcess(tmp_path / "data", path, hub_rate=12 * 2**20) as server:
        yield server


@pytest.fixture
def lab(tmp_path: Path, demo_server: ServerProcess) -> Iterator[str]:
    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "demo.ipynb", work / "demo.ipynb")
    with JupyterLab(work, tmp_path, env={"PIECES_OS_URL": demo_server.url}) as lab:
        yield lab.url("demo.ipynb")


def test_widget_in_jupyterlab(lab: str, demo_server: ServerProcess, tmp_path: Path) -> None:
    shots = tmp_path  # looked at when a run fails; docs/ screenshots come from docs/screenshots.py
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(lab)
        expect(page.get_by_text(IDLE)).to_be_visible(timeout=90_000)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Escape")  # command mode
        page.keyboard.press("Control+a")  # select every cell
        page.keyboard.press("Shift+Enter")  # run them

        widget = page.locator(".pieces-widget").first
        try:
            expect(widget).to_be_visible(timeout=60_000)
        except AssertionError:
            page.screenshot(path=str(ROOT / "test-results-lab.png"))
            raise
        expect(widget.locator(".pieces-connection")).to_have_attribute(
            "data-state", "connected", timeout=60_000
        )
        expect(widget.locator("[data-model-id]")).to_have_count(8)
        # ensure() in the last cell downloads and loads Phi-3 Mini while the widget watches.
        expect(
            _row(page, "demo-phi-3-mini").get_by_role("button", name="Unload Phi-3 Mini 4K")
        ).to_be_visible(timeout=60_000)

        # Download: the bar rises through intermediate values to 100, then Load, then Unload.
        _row(page, "demo-gemma-1.1-2b").get_by_role("button", name="Download Gemma 1.1 2B").click()
        values = _progress_values(page, "demo-gemma-1.1-2b")
        assert values and values[-1] == 100, values
        assert len([v for v in values if 0 < v < 100]) >= 3, values
        assert values == sorted(values)
        load = _row(page, "demo-gemma-1.1-2b").get_by_role("button", name="Load Gemma 1.1 2B")
        expect(load).to_be_visible(timeout=20_000)
        load.focus()
        unload = _row(page, "demo-gemma-1.1-2b").get_by_role("button", name="Unload Gemma 1.1 2B")
        # keyboard operable; a button that just changed (Cancel -> Load) ignores keys for a
        # moment (issue 17: Enter twice on Download must not cancel), so press until it acts
        deadline = time.monotonic() + 30
        while not unload.is_visible():
            assert time.monotonic() < deadline, "Enter on Load did not load"
            page.keyboard.press("Enter")
            try:
                expect(unload).to_be_visible(timeout=1_000)
            except AssertionError:
                continue
        unload.click()
        expect(load).to_be_visible(timeout=30_000)

        # Cancel mid-way: the row says canceled and offers to resume the partial download.
        llama = _row(page, "demo-llama-3-8b")
        llama.get_by_role("button", name="Download Llama 3 8B Instruct").click()
        bar = llama.locator('[role="progressbar"]')
        expect(bar).to_be_visible(timeout=20_000)
        page_wait(lambda: float(bar.get_attribute("aria-valuenow") or 0) > 0, 20, "Llama 3 moves")
        llama.get_by_role("button", name="Cancel Llama 3 8B Instruct").click()
        expect(llama.locator('[role="status"]')).to_have_text("Download canceled", timeout=10_000)
        resume = llama.get_by_role("button", name=re.compile(r"^Resume \(\d+ %\) Llama 3 8B"))
        expect(resume).to_be_visible()

        # Load of a model that is not downloaded (deleted behind the widget's back): an alert.
        requests.post(
            f"{demo_server.url}/models/demo-gemma-1.1-2b/delete/cache", json={}, timeout=10
        )
        load.click()
        alert = _row(page, "demo-gemma-1.1-2b").locator('[role="alert"]')
        expect(alert).to_contain_text("not downloaded", timeout=20_000)
        gemma = _row(page, "demo-gemma-1.1-2b")
        expect(gemma.get_by_role("button", name="Download Gemma 1.1 2B")).to_be_visible(
            timeout=10_000
        )

        # A model name holding HTML shows as text.
        hostile = _row(page, "hostile").locator(".pw-name")
        expect(hostile).to_have_text(HOSTILE_NAME)
        assert _row(page, "hostile").locator("img, b").count() == 0
        assert page.evaluate("window.__pwned") is None

        page.screenshot(path=str(shots / "screenshot-light.png"), full_page=False)
        lab_theme(page, "JupyterLab Dark")
        page.screenshot(path=str(shots / "screenshot-dark.png"), full_page=False)

        # The server goes away: Refresh shows unreachable; it comes back: Retry reconnects.
        demo_server.stop()
        widget.get_by_role("button", name="Refresh the model list").click()
        banner = widget.locator(".pieces-connection")
        expect(banner).to_have_attribute("data-state", "unreachable", timeout=20_000)
        demo_server.start()
        widget.get_by_role("button", name="Retry connecting to Pieces OS").click()
        expect(banner).to_have_attribute("data-state", "connected", timeout=20_000)

        assert page.get_by_text("Error displaying widget").count() == 0
        browser.close()
    real = [e for e in errors if "favicon" not in e and "404" not in e]
    assert not real, real
