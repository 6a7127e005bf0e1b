"""What every host's browser test does with the widget on the page, through the contract hooks
of DESIGN.md 4 only (``.pieces-widget``, ``[data-model-id]``, buttons by their exact text,
``role=progressbar`` with ``aria-valuenow``), so a new front end needs no new selectors."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Locator, Page, expect

WIDGET = ".pieces-widget"


class ConsoleErrors:
    """Console errors and uncaught exceptions of a page, minus host noise: ``ignore`` holds
    substrings of a message or of where it comes from (the console message's script URL, an
    exception's innermost stack frame), e.g. a missing favicon or a host's own bundle."""

    def __init__(self, page: Page, ignore: tuple[str, ...] = ()) -> None:
        self.ignore = ("favicon", *ignore)
        self.seen: list[tuple[str, str]] = []  # (message, where)
        page.on("console", self._console)
        page.on("pageerror", self._exception)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            where = message.location
            url = where.get("url", "") if isinstance(where, dict) else ""
            self.seen.append((message.text, url))

    def _exception(self, error: Any) -> None:
        frames = [
            ln.strip() for ln in (error.stack or "").splitlines() if ln.strip().startswith("at ")
        ]
        self.seen.append((f"uncaught: {error}", frames[0] if frames else ""))

    def real(self) -> list[str]:
        return [
            f"{text} ({where})"
            for text, where in self.seen
            if not any(noise in text or noise in where for noise in self.ignore)
        ]


def row(page: Page, model_id: str) -> Locator:
    return page.locator(f'{WIDGET} [data-model-id="{model_id}"]').first


def button(scope: Locator, text: str) -> Locator:
    """The button whose text is exactly ``text`` (its aria-label also names the model)."""
    return scope.locator("button").filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def expect_rows(page: Page, models: dict[str, str], timeout: float = 60_000) -> None:
    """Every model id has a row showing its name, and there are no other rows."""
    widget = page.locator(WIDGET).first
    expect(widget).to_be_visible(timeout=timeout)
    expect(widget.locator("[data-model-id]")).to_have_count(len(models), timeout=timeout)
    for model_id, name in models.items():
        expect(row(page, model_id)).to_contain_text(name)


def progress_values(page: Page, model_id: str, until: float = 60) -> list[float]:
    """aria-valuenow of a row's progress bar, each change sampled, until it reaches 100."""
    bar = row(page, model_id).locator('[role="progressbar"]')
    values: list[float] = []
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        if bar.count():
            value = bar.first.get_attribute("aria-valuenow")
            if value is not None and (not values or float(value) != values[-1]):
                values.append(float(value))
            if values and values[-1] >= 100:
                break
        time.sleep(0.05)
    return values


def download_load_unload(page: Page, model_id: str) -> list[float]:
    """Download ``model_id`` with the bar rising to 100, then Load, then Unload it; returns the
    bar's values."""
    target = row(page, model_id)
    button(target, "Download").click()
    values = progress_values(page, model_id)
    assert values and values[-1] == 100, values
    assert len([v for v in values if 0 < v < 100]) >= 3, values  # the bar moved on the way
    assert values == sorted(values), values
    load = button(target, "Load")
    expect(load).to_be_visible(timeout=20_000)
    load.click()
    unload = button(target, "Unload")
    expect(unload).to_be_visible(timeout=30_000)
    unload.click()
    expect(load).to_be_visible(timeout=30_000)
    return values


def catalog_names(catalog: list[dict[str, Any]]) -> dict[str, str]:
    return {m["id"]: m["name"] for m in catalog}


def human_click(page: Page, target: Locator, hold_ms: float = 150) -> None:
    """Click as a person does: move to the centre, press, hold ``hold_ms``, release (Playwright's
    own click is instantaneous and retries on a detached element, hiding a rebuilt button)."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None, f"{target} is not on screen"
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(hold_ms)
    page.mouse.up()


def focused_row(page: Page) -> str | None:
    """The ``data-model-id`` of the row holding keyboard focus, or None."""
    return page.evaluate(
        "() => document.activeElement?.closest('[data-model-id]')?.getAttribute('data-model-id')"
        " ?? null"
    )


def lab_theme(page: Page, theme: str) -> None:
    """Switch JupyterLab's theme ("JupyterLab Light" / "JupyterLab Dark") through its menu."""
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    page.get_by_text("Theme", exact=True).hover()
    page.get_by_text(theme, exact=True).click()
    light = "false" if "Dark" in theme else "true"
    expect(page.locator(f'body[data-jp-theme-light="{light}"]')).to_have_count(1, timeout=10_000)
    # JupyterLab flips the attribute, then hides and re-shows its shell on the next frame, and
    # its splash screen covers the page until 200 ms after that: a click in between can land on
    # the splash or on a menu that the re-layout moved. Wait until it is gone and two frames drew.
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=10_000)
    page.evaluate("() => new Promise((f) => requestAnimationFrame(() => requestAnimationFrame(f)))")
