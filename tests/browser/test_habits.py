"""The widget in real JupyterLab in real (Debian) Chromium against a server that behaves as Pieces
OS's clients and issue tracker describe the real one (issue 15): no Ollama yet, a download that
starts seconds after the click, frames seconds apart, no snapshot, the socket left open, a cancel
that keeps nothing. One session, in order: the runtime notice and Install Ollama, a slow start
read as Starting, a bar that moves with sparse frames, a cancel that offers Download (no Resume).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browserhosts import JupyterLab, launch_chromium, write_notebook
from playwright.sync_api import expect, sync_playwright
from serverproc import MiB, ServerProcess, local_model, write_catalog
from widgetpage import ConsoleErrors, button, progress_values, row

pytestmark = pytest.mark.browser

CATALOG = [
    local_model("slow-a", 8 * MiB, name="Slow A"),
    local_model("slow-b", 24 * MiB, name="Slow B"),
    {"id": "cloud-c", "name": "Cloud C", "cloud": True},
]
HABITS = ["--pieces-os-habits", "--start-delay", "2.5", "--frame-interval", "1", "--without-ollama"]


@pytest.fixture
def habits_server(tmp_path: Path) -> Iterator[ServerProcess]:
    catalog = write_catalog(tmp_path / "catalog.json", CATALOG)
    with ServerProcess(tmp_path / "data", catalog, hub_rate=2 * MiB, extra_args=HABITS) as server:
        yield server


def test_the_widget_against_pieces_os_habits(habits_server: ServerProcess, tmp_path: Path) -> None:
    work = tmp_path / "nb"
    work.mkdir()
    write_notebook(
        work / "habits.ipynb", ["from pieces_widget import ModelManager\nModelManager()"]
    )
    env = {"PIECES_OS_URL": habits_server.url}
    with JupyterLab(work, tmp_path, env=env) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = ConsoleErrors(page, ignore=("favicon", "404"))
        lab.run_all(page, "habits.ipynb")
        widget = page.locator(".pieces-widget").first
        banner = widget.locator(".pieces-connection")
        expect(banner).to_have_attribute("data-state", "connected", timeout=60_000)
        # It looks like Pieces OS (no capabilities): the banner names it with its version.
        expect(banner).to_contain_text(f"Connected to Pieces OS 11.0.0 at {habits_server.url}")

        # 1. No Ollama: one notice above the rows; local Download is off with the reason.
        notice = widget.locator(".pw-runtime")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Local models run on Ollama, which is not installed.")
        download_a = button(row(page, "slow-a"), "Download")
        expect(download_a).to_be_disabled()
        expect(download_a).to_have_attribute("title", re.compile("Ollama"))
        expect(row(page, "cloud-c").locator('[role="alert"]')).to_have_count(0)
        page.screenshot(path=str(tmp_path / "habits-no-ollama.png"))

        # 2. Install Ollama: progress in place, then the notice goes away by itself.
        notice.get_by_role("button", name="Install Ollama through Pieces OS").click()
        expect(notice).to_be_hidden(timeout=30_000)
        expect(download_a).to_be_enabled(timeout=10_000)

        # 3. A download that starts 2.5 s late reads Starting, never fails; then the bar moves
        #    with frames a second apart and ends on Load.
        download_a.click()
        slow_a = row(page, "slow-a")
        expect(slow_a.locator(".pw-progress-text")).to_have_text("Starting…", timeout=5_000)
        expect(slow_a.locator('[role="status"]').first).to_have_text("Starting…")
        time.sleep(2.0)  # the server's start delay: nothing may end or fail meanwhile
        expect(slow_a.locator('[role="alert"]')).to_have_count(0)
        expect(button(slow_a, "Cancel")).to_be_visible()
        values = progress_values(page, "slow-a", until=40)
        assert values and values[-1] == 100, values
        assert len([v for v in values if 0 < v < 100]) >= 2, values  # sparse frames move it
        expect(button(slow_a, "Load")).to_be_visible(timeout=15_000)
        expect(slow_a.locator('[role="alert"]')).to_have_count(0)

        # 4. A cancel on a server that keeps nothing: the row offers Download, not Resume.
        slow_b = row(page, "slow-b")
        button(slow_b, "Download").click()
        bar = slow_b.locator('[role="progressbar"]')
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = bar.get_attribute("aria-valuenow") if bar.count() else None
            if now is not None and float(now) > 0:
                break
            time.sleep(0.1)
        button(slow_b, "Cancel").click()
        expect(slow_b.locator('[role="status"]').first).to_contain_text("canceled", timeout=15_000)
        expect(button(slow_b, "Download")).to_be_visible(timeout=10_000)
        assert slow_b.locator("button", has_text="Resume").count() == 0
        page.screenshot(path=str(tmp_path / "habits-after.png"))
        browser.close()
        assert not errors.real(), errors.real()
