"""Retake the README's images from a real JupyterLab in Debian Chromium against the reference
server with the demo catalog: one download running (speed and ETA showing), one model loaded,
no error; in the light and the dark theme; and a few seconds of a download as a small GIF.

    .venv/bin/python docs/screenshots.py        (writes docs/screenshot-{light,dark,narrow}.png
                                                 and docs/download.gif)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))
sys.path.insert(0, str(DOCS))

from browserhosts import JupyterLab, launch_chromium, write_notebook  # noqa: E402
from make_gif import make_gif  # noqa: E402
from serverproc import MiB, ServerProcess  # noqa: E402

from pieces_widget.server.catalog import DEMO_CATALOG  # noqa: E402

LOADED, RUNNING = "demo-phi-3-mini", "demo-llama-3-8b"
HUB_RATE = 3 * MiB  # slow enough that a download runs while we take pictures
VIEW = {"width": 1280, "height": 820}
NARROW = {"width": 420, "height": 1500}


def _widget_shot(page, path: Path) -> None:
    page.locator(".pieces-widget").first.screenshot(path=str(path))


def _set_theme(page, name: str) -> None:
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    page.get_by_text("Theme", exact=True).hover()
    page.get_by_text(name, exact=True).click()
    page.wait_for_timeout(1200)


def main() -> int:
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "nb").mkdir()
        with ServerProcess(tmp / "data", DEMO_CATALOG, hub_rate=HUB_RATE) as server:
            show = (
                "from pieces_widget import ModelManager\n"
                f"mgr = ModelManager(base_url={server.url!r})\nmgr"
            )
            write_notebook(tmp / "nb" / "shots.ipynb", [show])
            requests_post(server.url, f"/model/{LOADED}/download")  # one model loaded, first
            while not requests_model(server.url, LOADED)["downloaded"]:
                time.sleep(0.2)
            requests_post(server.url, f"/model/{LOADED}/load")
            with JupyterLab(tmp / "nb", tmp / "lab") as lab, sync_playwright() as pw:
                browser = launch_chromium(pw)
                page = browser.new_page(viewport=VIEW, device_scale_factor=1)
                lab.run_all(page, "shots.ipynb")
                widget = page.locator(".pieces-widget").first
                expect(widget.locator(".pieces-connection")).to_have_attribute(
                    "data-state", "connected", timeout=60_000
                )
                row = widget.locator(f'[data-model-id="{RUNNING}"]')
                row.locator('button[data-action="download"]').click()
                text = row.locator(".pw-progress-text")
                expect(text).to_contain_text("ETA", timeout=20_000)
                page.wait_for_timeout(3000)  # a settled speed and ETA
                _widget_shot(page, DOCS / "screenshot-light.png")
                frames = tmp / "frames"
                frames.mkdir()
                for i in range(16):  # a few seconds of the download, for the GIF
                    _widget_shot(page, frames / f"frame-{i:03d}.png")
                    page.wait_for_timeout(200)
                _set_theme(page, "JupyterLab Dark")
                _widget_shot(page, DOCS / "screenshot-dark.png")
                _set_theme(page, "JupyterLab Light")
                page.set_viewport_size(NARROW)  # the widget lays out by its own width
                page.keyboard.press("Control+b")  # the side bar closed, as on a small screen
                page.wait_for_timeout(1500)
                _widget_shot(page, DOCS / "screenshot-narrow.png")
                browser.close()
        make_gif(sorted(frames.glob("*.png")), DOCS / "download.gif", fps=4, width=720)
    for name in (
        "screenshot-light.png",
        "screenshot-dark.png",
        "screenshot-narrow.png",
        "download.gif",
    ):
        print(f"{DOCS / name}: {(DOCS / name).stat().st_size // 1000} kB")
    return 0


def requests_model(base: str, model_id: str) -> dict:
    import requests

    return requests.get(f"{base}/model/{model_id}", timeout=10).json()


def requests_post(base: str, path: str) -> None:
    import requests

    requests.post(base + path, timeout=120).raise_for_status()


if __name__ == "__main__":
    sys.exit(main())
