"""The widget while things happen, in one real JupyterLab session in real (Debian) Chromium
against the real reference server (issues 8 and 9): human clicks and typing during a download,
focus, the connection watch, a failed download's alert, the finished bar, labels, Details,
axe-core and alert contrast in light and dark, Delete, Unload all, a fit warning, sort and group,
adding a model from a URL; and what a first user reported (steps 15-17 and inside 4, 10-13): a
click while a cell runs, a double-click on Download, a download while Pieces OS is unreachable.

The tests share one page and run in file order, each one step named by its number in the list
of issue 8 section 5 and issue 9 section 3 as the lead's brief numbers them (the file order lets
downloads overlap: step 6 watches the download step 2 started). A failing step leaves
test-results/live-<test>.png; the figures measured go to test-results/live-figures.json (and
stdout with -s).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from browserhosts import IDLE, JupyterLab, launch_chromium, write_notebook
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect, sync_playwright
from serverproc import MiB, ServerProcess, local_model, write_catalog
from waiting import page_wait as wait_for
from widgetpage import ConsoleErrors, focused_row, human_click, lab_theme, row

from browser.rowmenu import menu_item
from pieces_widget.server.catalog import DEMO_CATALOG

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "js" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-results"
HUB_RATE = 4 * MiB  # Phi-3 and the custom model (32 MiB) take 8 s, Llama 3 (96 MiB) 24 s

LLAMA, PHI, CUSTOM, GPT = "demo-llama-3-8b", "demo-phi-3-mini", "demo-custom-coder", "demo-gpt-4o"
BAD, HUGE = "live-bad-checksum", "live-huge-ram"
SMALL_BLOB = "live-huge-ram.bin"  # 4 MiB in the built-in hub; the Add step downloads it again
ENUM_TOKEN = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_.]+\b")
FIGURES: dict[str, Any] = {}

pytestmark = pytest.mark.browser


@dataclass
class Live:
    page: Page
    server: ServerProcess
    errors: ConsoleErrors
    lab: JupyterLab

    @property
    def widget(self) -> Locator:
        return self.page.locator(".pieces-widget").first

    def row(self, model_id: str) -> Locator:
        return row(self.page, model_id)

    def main_button(self, model_id: str, action: str) -> Locator:
        return self.row(model_id).locator(f'.pw-actions > button[data-action="{action}"]')

    def panel(self, kind: str, model_id: str | None = None) -> tuple[Locator, Locator]:
        """(toggle button, panel) of a row's Edit form or Details, or the header's Add form."""
        if kind == "add":
            return (
                self.widget.locator('button[data-action="toggle-add"]'),
                self.widget.locator('form.pw-add[data-form="add"]'),
            )
        assert model_id is not None
        selector = {"edit": "form.pw-edit", "details": "section.pw-details"}[kind]
        scope = self.row(model_id)
        return scope.locator(f'button[data-action="{kind}"]'), scope.locator(selector)

    def secondary(self, model_id: str, action: str) -> Locator:
        """A row's secondary action (Edit, Details, Delete, ...): its More menu opened."""
        return menu_item(self.row(model_id), action)

    def set_open(self, kind: str, model_id: str | None = None, is_open: bool = True) -> Locator:
        """Open or close a panel with its toggle (a row's in its More menu), whatever state an
        earlier (maybe failed) step left it in; the toggle's aria-expanded must follow."""
        toggle, panel = self.panel(kind, model_id)
        if panel.is_visible() != is_open:
            if model_id is not None:
                self.secondary(model_id, kind)
            toggle.click()
        where = f"{kind} {model_id or ''} should be {'open' if is_open else 'closed'}"
        expect(toggle, where).to_have_attribute("aria-expanded", str(is_open).lower())
        if is_open:
            expect(panel, where).to_be_visible()
        else:
            expect(panel, where).to_be_hidden()
        return panel

    def model(self, model_id: str) -> dict[str, Any]:
        """The model as the server has it now (GET /model/{id})."""
        answer = requests.get(f"{self.server.url}/model/{model_id}", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def models(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.server.url}/models", timeout=10).json()["iterable"]

    def weights(self) -> list[Path]:
        return sorted((self.server.data_dir / "models").glob("*.bin"))

    def ensure_downloaded(self, model_id: str, timeout: float = 40) -> None:
        """Precondition of a step, through the API, so one failed step does not fail the next."""
        if not self.model(model_id)["downloaded"]:
            if not self.model(model_id)["downloading"]:
                requests.post(f"{self.server.url}/model/{model_id}/download", timeout=10)
            wait_for(lambda: self.model(model_id)["downloaded"], timeout, f"{model_id} downloaded")
        expect(self.row(model_id).locator(".pw-badge-on-device")).to_be_visible(timeout=10_000)


def bar_value(bar: Locator) -> float | None:
    if not bar.count():
        return None
    value = bar.first.get_attribute("aria-valuenow")
    return None if value is None else float(value)


def wait_ticks(bar: Locator, count: int, where: str, timeout: float = 10) -> list[float]:
    """Until the bar has shown ``count`` different values (the download is running)."""
    seen: list[float] = []
    deadline = time.monotonic() + timeout
    while len(seen) < count:
        assert time.monotonic() < deadline, f"{where}: the bar did not tick: {seen}"
        value = bar_value(bar)
        if value is not None and value not in seen:
            seen.append(value)
        time.sleep(0.05)
    return seen


def figure(step: str, **values: Any) -> None:
    FIGURES.setdefault(step, {}).update(values)
    print(f"{step}: {json.dumps(values)}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    catalog = json.loads(DEMO_CATALOG.read_text())  # keeps the demo's custom model
    catalog.append(local_model(BAD, 4 * MiB, name="Bad Checksum", source={"sha256": "0" * 64}))
    catalog.append(
        local_model(HUGE, 4 * MiB, name="Huge RAM", blob=SMALL_BLOB, ram={"value": 10**14})
    )
    path = write_catalog(tmp / "catalog.json", catalog)
    with ServerProcess(tmp / "data", path, hub_rate=HUB_RATE) as server:
        work = tmp / "nb"
        work.mkdir()
        code = (
            "from pieces_widget import ModelManager\n"
            f"mgr = ModelManager(base_url={server.url!r}, watch_interval=1.0)\n"
            "mgr"
        )
        write_notebook(work / "live.ipynb", [code])
        with JupyterLab(work, tmp) as lab, sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            errors = ConsoleErrors(page)
            lab.run_all(page, "live.ipynb")
            state = Live(page, server, errors, lab)
            expect(state.widget).to_be_visible(timeout=60_000)
            expect(state.widget.locator(".pieces-connection")).to_have_attribute(
                "data-state", "connected", timeout=30_000
            )
            expect(state.widget.locator("[data-model-id]")).to_have_count(len(catalog))
            yield state
            browser.close()
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / "live-figures.json").write_text(json.dumps(FIGURES, indent=1))


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest, live: Live) -> Iterator[None]:
    failed = request.session.testsfailed
    start = time.monotonic()
    yield
    figure(request.node.name, seconds=round(time.monotonic() - start, 1))
    if request.session.testsfailed > failed:
        SHOTS.mkdir(exist_ok=True)
        shot = SHOTS / f"live-{request.node.name}.png"
        live.page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")


def test_step01_human_click_cancels_three_times(live: Live) -> None:
    """A press held 150 ms on Cancel while the bar moves cancels; Resume starts again; x3."""
    llama = live.row(LLAMA)
    bar = llama.locator('[role="progressbar"]')
    llama.evaluate("r => { r.__pwLive = 1 }")  # the row must be patched, never replaced
    resumes, moved_during_press = [], []
    for attempt in range(1, 4):
        start = live.main_button(LLAMA, "download")
        expect(start).to_have_text(
            "Download" if attempt == 1 else re.compile(r"^Resume \(\d+ %\)$")
        )
        start.click()
        expect(bar).to_be_visible(timeout=10_000)
        wait_ticks(bar, 3, f"attempt {attempt}")
        cancel = live.main_button(LLAMA, "cancel")
        before = bar_value(bar)
        try:
            human_click(live.page, cancel)
        except PlaywrightError as exc:
            msg = f"attempt {attempt}: Cancel was replaced under the pointer: {exc}"
            raise AssertionError(msg) from exc
        after = bar_value(bar)
        moved_during_press.append(before != after and after is not None)
        expect(llama.locator(".pw-status"), f"attempt {attempt}").to_have_text(
            "Download canceled", timeout=10_000
        )
        resume = live.main_button(LLAMA, "download")
        expect(resume, f"attempt {attempt}").to_have_text(re.compile(r"^Resume \(\d+ %\)$"))
        wait_for(lambda: not live.model(LLAMA)["downloading"], 5, "server: downloading false")
        resumes.append(int(re.findall(r"\d+", resume.inner_text())[0]))
        assert llama.evaluate("r => r.__pwLive") == 1, f"attempt {attempt}: the row was rebuilt"
    assert resumes == sorted(resumes) and resumes[-1] > 0, resumes
    figure("step01", resume_percents=resumes, bar_moved_during_press=moved_during_press)


def test_step02_typing_in_edit_while_downloading(live: Live) -> None:
    """Every character typed (40 ms apart) into Edit while the row downloads stays, with focus."""
    custom = live.row(CUSTOM)
    bar = custom.locator('[role="progressbar"]')
    live.main_button(CUSTOM, "download").click()
    expect(bar).to_be_visible(timeout=10_000)
    name = live.set_open("edit", CUSTOM).locator('input[name="name"]')
    original = name.input_value()
    typed = " (tuned by hand, v2)"
    name.click()
    live.page.keyboard.press("End")
    start = bar_value(bar)
    t0 = time.monotonic()
    live.page.keyboard.type(typed, delay=40)
    typing = time.monotonic() - t0
    end = bar_value(bar)
    assert start is not None and end is not None and end > start, (
        f"the row was not downloading while typing: bar {start} -> {end}"
    )
    assert name.input_value() == original + typed
    focus = live.page.evaluate(
        "() => ({ name: document.activeElement?.getAttribute('name'),"
        " form: document.activeElement?.closest('form')?.dataset.form ?? null,"
        " row: document.activeElement?.closest('[data-model-id]')?.dataset.modelId ?? null,"
        " caret: document.activeElement?.selectionStart ?? null })"
    )
    assert focus == {
        "name": "name", "form": "edit", "row": CUSTOM, "caret": len(original + typed)
    }, focus  # fmt: skip
    # Enter in the field saves, in JupyterLab too (its notebook shortcuts take Enter in command
    # mode; a field in an output must keep it)
    live.page.keyboard.press("Enter")
    wait_for(lambda: live.model(CUSTOM)["name"] == original + typed, 10, "Enter saved the name")
    expect(custom.locator("form.pw-edit")).to_have_count(0, timeout=10_000)  # saved, it closes
    figure("step02", typing_s=round(typing, 2), bar_during_typing=[start, end])


def test_step06_finished_bar_is_gone_within_5s(live: Live) -> None:
    """The custom model's download (started in step 2) ends; its bar goes, On device stays."""
    custom = live.row(CUSTOM)
    bar = custom.locator('[role="progressbar"]')
    wait_for(lambda: custom.locator(".pw-badge-on-device").count(), 30, "custom On device")
    done = time.monotonic()
    gone = wait_for(lambda: bar.count() == 0, 5, "the finished bar collapses")
    time.sleep(max(0.0, 5 - (time.monotonic() - done)))
    assert bar.count() == 0, "the bar came back"
    expect(custom.locator(".pw-badge-on-device")).to_be_visible()
    assert live.model(CUSTOM)["downloaded"]
    figure("step06", bar_gone_after_s=round(gone, 2))


def test_step03_enter_on_download_keeps_focus_in_row(live: Live) -> None:
    """Enter on a focused Download starts it; focus stays in that row for 3 s of ticks."""
    download = live.main_button(PHI, "download")
    download.focus()
    live.page.keyboard.press("Enter")
    bar = live.row(PHI).locator('[role="progressbar"]')
    expect(bar).to_be_visible(timeout=10_000)
    where: list[str | None] = []
    values: list[float | None] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:
        where.append(focused_row(live.page))
        values.append(bar_value(bar))
        time.sleep(0.1)
    assert set(where) == {PHI}, f"focus left the row: {sorted(set(map(str, where)))}"
    assert len(set(values) - {None}) >= 3, f"the download did not tick: {values}"
    focused = live.page.evaluate("() => document.activeElement.getAttribute('data-action')")
    figure("step03", samples=len(where), focused_action=focused, bar=[values[0], values[-1]])


def download_buttons(row_: Locator) -> list[str]:
    """The visible buttons of a row that would download (its main one, a Retry in its alert)."""
    return row_.locator('button[data-action="download"]:visible').all_inner_texts()


def test_step05_failed_download_shows_reason_and_retry(live: Live) -> None:
    """The reason in a red alert; the row's Download is its one retry (no second button)."""
    bad = live.row(BAD)
    live.main_button(BAD, "download").click()
    alert = bad.locator('[role="alert"]')
    expect(alert).to_be_visible(timeout=20_000)
    expect(alert).to_contain_text(re.compile("checksum", re.IGNORECASE))
    expect(alert.locator("button:visible")).to_have_count(0)
    retry = live.main_button(BAD, "download")
    expect(retry).to_have_text("Download")
    expect(retry).to_be_enabled()
    assert download_buttons(bad) == ["Download"], download_buttons(bad)
    figure("step05", alert=alert.inner_text())


def no_enum_tokens(live: Live) -> int:
    texts = live.widget.locator("[data-model-id]").evaluate_all(
        "rows => rows.map(r => [r.dataset.modelId, r.innerText])"
    )
    raw = {mid: ENUM_TOKEN.findall(text) for mid, text in texts if ENUM_TOKEN.search(text)}
    assert not raw, f"raw enum tokens in rows: {raw}"
    return len(texts)


def test_step07_no_raw_enum_tokens(live: Live) -> None:
    live.set_open("details", GPT)  # Details shows enum fields too
    figure("step07", rows_checked=no_enum_tokens(live))


AXE_RUN = """async () => {
  const result = await axe.run(document.querySelector('.pieces-widget'),
                               { resultTypes: ['violations', 'incomplete'] });
  const brief = (v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' -> ' + n.failureSummary) });
  return { violations: result.violations.map(brief), incomplete: result.incomplete.map(brief) };
}"""

# WCAG 2 contrast of each visible role=alert in the widget (and its text-bearing descendants):
# computed colour against the effective background (ancestors' backgrounds composited).
ALERT_CONTRAST = """() => {
  const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  const rgba = (css) => {
    ctx.fillStyle = '#010203';
    ctx.fillStyle = css;
    if (ctx.fillStyle === '#010203' && !/^(#010203|rgb\\(1, 2, 3\\))$/.test(css))
      throw new Error('cannot parse colour ' + css);
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]))
    .concat([1]);
  const background = (node) => {
    const layers = [];
    for (let n = node; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (fg, bg) => {
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const out = [];
  for (const alert of document.querySelectorAll('.pieces-widget [role="alert"]')) {
    if (!alert.getClientRects().length) continue;
    const nodes = [alert, ...alert.querySelectorAll('*')].filter(n =>
      n.getClientRects().length && [...n.childNodes].some(t => t.nodeType === 3 && t.data.trim()));
    for (const n of nodes) {
      const bg = background(n);
      const fg = over(rgba(getComputedStyle(n).color), bg);
      out.push({ text: n.textContent.trim().slice(0, 40), ratio: ratio(fg, bg) });
    }
  }
  return out;
}"""


def test_step09_axe_and_alert_contrast_light_and_dark(live: Live) -> None:
    """axe-core finds nothing on the widget with an alert, a fit hint, Details (step 7), Edit and
    the Add form showing; every alert text is >= 4.5:1 on its background; light, then dark."""
    page = live.page
    expect(live.row(BAD).locator('[role="alert"]')).to_be_visible()
    live.set_open("details", GPT)
    live.set_open("edit", CUSTOM)
    live.set_open("add")
    page.add_script_tag(path=str(AXE))
    results = {}
    try:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            if theme != "JupyterLab Light":
                lab_theme(page, theme)
            axe = page.evaluate(AXE_RUN)
            contrast = page.evaluate(ALERT_CONTRAST)
            results[theme] = (axe["violations"], contrast)
            figure(
                "step09",
                **{theme: {"violations": [v["id"] for v in axe["violations"]],
                           "incomplete": {v["id"]: v["nodes"] for v in axe["incomplete"]},
                           "alert_ratios": [round(c["ratio"], 2) for c in contrast]}},
            )  # fmt: skip
    finally:
        lab_theme(page, "JupyterLab Light")
        live.set_open("details", GPT, False)
        live.set_open("edit", CUSTOM, False)
        live.set_open("add", None, False)
    for theme, (violations, contrast) in results.items():
        assert not violations, f"{theme}: axe violations {json.dumps(violations, indent=1)}"
        assert contrast, f"{theme}: no visible alert to check"
        low = [c for c in contrast if c["ratio"] < 4.5]
        assert not low, f"{theme}: alert contrast below 4.5:1: {low}"


def detail(panel: Locator, label: str) -> str:
    return panel.evaluate(
        "(p, label) => [...p.querySelectorAll('dt')].find(dt => dt.textContent === label)"
        "?.nextElementSibling?.textContent ?? null",
        label,
    )


def test_step08_details_opens_updates_closes(live: Live) -> None:
    live.ensure_downloaded(PHI)
    toggle, panel = live.panel("details", PHI)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    live.secondary(PHI, "details").click()
    expect(panel).to_be_visible()
    expect(toggle).to_have_text("Hide details")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    labels = panel.locator("dt").all_inner_texts()
    assert {"Name", "State", "Size", "Id"} <= set(labels), labels
    assert detail(panel, "State") == "On device"
    t0 = time.monotonic()
    requests.post(f"{live.server.url}/model/{PHI}/load", timeout=30).raise_for_status()
    loaded = time.monotonic()
    wait_for(lambda: detail(panel, "State") == "On device · Loaded", 5, "Details says Loaded")
    live_s = time.monotonic() - loaded
    live.secondary(PHI, "details").click()
    expect(panel).to_have_count(0)
    expect(toggle).to_have_text("Details")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    figure(
        "step08",
        labels=labels,
        load_s=round(loaded - t0, 2),
        panel_updated_after_s=round(live_s, 2),
    )


def header_height(live: Live) -> float:
    return live.widget.locator(".pw-header").evaluate("h => h.getBoundingClientRect().height")


def focused_action(live: Live) -> str | None:
    return live.page.evaluate("() => document.activeElement?.getAttribute('data-action') ?? null")


def test_step11_unload_all(live: Live) -> None:
    """Unload all stays in place (aria-disabled when nothing is loaded): the header keeps its
    height and the clicked button its focus. On the way: deleting a loaded model says it unloads."""
    unload_all = live.widget.locator('button[data-action="unload_all"]')
    expect(unload_all).to_be_visible()
    before = header_height(live)
    for model_id in (PHI, CUSTOM):
        live.ensure_downloaded(model_id)
        requests.post(f"{live.server.url}/model/{model_id}/load", timeout=30).raise_for_status()
    expect(live.widget.locator(".pw-summary")).to_contain_text(
        "Memory: 2 models loaded", timeout=10_000
    )
    expect(unload_all).not_to_have_attribute("aria-disabled", "true")
    loaded = header_height(live)
    # a loaded model's Delete says it unloads first (trial item 7); Keep leaves it
    confirm = live.row(PHI).locator(".pw-confirm")
    live.secondary(PHI, "delete").click()
    question = confirm.locator(".pw-confirm-text").inner_text()
    assert re.fullmatch(r"Unload and delete [\d.]+ MB from disk\?", question), question
    confirm.locator('button[data-action="keep"]').click()
    expect(confirm).to_have_count(0)
    unload_all.click()
    took = wait_for(
        lambda: not any(live.model(m)["loaded"] for m in (PHI, CUSTOM)), 10, "server: both unloaded"
    )
    expect(live.widget.locator(".pw-summary")).to_contain_text(
        "Memory: no model loaded", timeout=10_000
    )
    expect(unload_all).to_be_visible()
    expect(unload_all).to_have_attribute("aria-disabled", "true")
    assert focused_action(live) == "unload_all", focused_action(live)
    after = header_height(live)
    assert before == loaded == after, f"header height moved: {before} -> {loaded} -> {after}"
    live.page.keyboard.press("Enter")  # on the focused, unavailable button: nothing happens
    assert focused_action(live) == "unload_all" and header_height(live) == after
    for model_id in (PHI, CUSTOM):
        expect(live.main_button(model_id, "load")).to_be_visible()
    figure("step11", unloaded_after_s=round(took, 2), header_px=[before, loaded, after],
           loaded_delete_question=question)  # fmt: skip


def test_step10_delete_with_confirmation(live: Live) -> None:
    live.ensure_downloaded(PHI)
    phi_file = live.server.data_dir / "models" / f"{hashlib.sha256(PHI.encode()).hexdigest()}.bin"
    files = len(live.weights())
    assert phi_file.exists()
    confirm = live.row(PHI).locator(".pw-confirm")
    live.secondary(PHI, "delete").click()
    expect(confirm).to_be_visible()
    question = confirm.locator(".pw-confirm-text").inner_text()
    assert re.fullmatch(r"Delete [\d.]+ MB from disk\?", question), question
    confirm.locator('button[data-action="keep"]').click()
    expect(confirm).to_have_count(0)
    time.sleep(1.0)  # a Delete sent by mistake would have acted by now
    assert live.model(PHI)["downloaded"] and phi_file.exists() and len(live.weights()) == files
    live.secondary(PHI, "delete").click()
    confirm.locator('button.pw-danger[data-confirmed="1"][data-action="delete"]').click()
    took = wait_for(lambda: not phi_file.exists(), 10, "the weights file is deleted")
    assert len(live.weights()) == files - 1
    expect(live.main_button(PHI, "download")).to_have_text("Download", timeout=10_000)
    assert not live.model(PHI)["downloaded"]
    figure("step10", question=question, files=[files, files - 1], deleted_after_s=round(took, 2))


def test_step12_fit_warning_asks_before_load(live: Live) -> None:
    huge = live.row(HUGE)
    hint = huge.locator(".pw-hint")
    expect(hint).to_be_visible()
    expect(hint).to_have_text(re.compile(r"^needs .+ RAM, .+ free$"))
    live.main_button(HUGE, "download").click()  # fits on disk: no question
    expect(huge.locator(".pw-badge-on-device")).to_be_visible(timeout=20_000)
    live.main_button(HUGE, "load").click()
    confirm = huge.locator(".pw-confirm")
    expect(confirm).to_be_visible()
    question = confirm.locator(".pw-confirm-text").inner_text()
    expect(confirm.locator('button[data-confirmed="1"][data-action="load"]')).to_have_text(
        "Load anyway"
    )
    expect(confirm.locator('button[data-action="keep"]')).to_have_text("Not now")
    time.sleep(1.0)
    assert not live.model(HUGE)["loaded"], "Load acted without the confirmation"
    confirm.locator('button[data-action="keep"]').click()
    expect(confirm).to_have_count(0)
    expect(live.main_button(HUGE, "load")).to_be_visible()
    assert not live.model(HUGE)["loaded"]
    figure("step12", hint=hint.inner_text(), question=question)


def row_ids(scope: Locator) -> list[str]:
    return scope.locator("[data-model-id]").evaluate_all("rs => rs.map(r => r.dataset.modelId)")


def test_step13_sort_by_size_and_group(live: Live) -> None:
    models = {m["id"]: m for m in live.models()}
    size = {i: (m.get("bytes") or {}).get("value", -1) for i, m in models.items()}
    options = live.widget.locator('select[data-control="sort"] option').all_inner_texts()
    assert options == ["Name", "Size (largest first)", "RAM (largest first)", "State"], options
    live.widget.locator('select[data-control="sort"]').select_option("size")
    wait_for(lambda: [size[i] for i in row_ids(live.widget)] == sorted(size.values(), reverse=True),
             5, "rows sorted by size, biggest first")  # fmt: skip
    by_size = row_ids(live.widget)
    assert sorted(by_size) == sorted(models)

    live.widget.locator('input[data-control="group"]').check()
    sections = live.widget.locator(".pw-list > .pw-section")
    expect(sections.locator("h3.pw-section-title .pw-section-name")).to_have_text(
        ["On device", "Available", "Cloud"]
    )

    def group(m: dict[str, Any]) -> str:
        return "Cloud" if m["cloud"] else "On device" if m["downloaded"] else "Available"

    grouped = {}
    for i in range(sections.count()):
        title = sections.nth(i).locator("h3.pw-section-title .pw-section-name").inner_text()
        ids = row_ids(sections.nth(i))
        grouped[title] = ids
        assert {group(models[m]) for m in ids} == {title}, (title, ids)
        assert [size[m] for m in ids] == sorted((size[m] for m in ids), reverse=True), ids
    assert sorted(m for ids in grouped.values() for m in ids) == sorted(models)
    live.widget.locator('input[data-control="group"]').uncheck()
    live.widget.locator('select[data-control="sort"]').select_option("name")
    expect(live.widget.locator("h3.pw-section-title")).to_have_count(0)
    figure("step13", by_size=by_size, grouped=grouped)


def test_step14_add_model_from_hub_and_download(live: Live) -> None:
    before = set(row_ids(live.widget))
    files = len(live.weights())
    form = live.set_open("add")
    url = f"{live.server.url}/hub/{SMALL_BLOB}"
    form.locator('input[name="name"]').fill("Added From Hub")
    form.locator('input[name="url"]').fill(url)
    form.get_by_role("button", name="Add", exact=True).click()
    wait_for(lambda: len(row_ids(live.widget)) == len(before) + 1, 10, "the new row appears")
    (new,) = set(row_ids(live.widget)) - before
    expect(form).to_be_hidden()
    added = live.row(new)
    expect(added.locator(".pw-name")).to_have_text("Added From Hub")
    live.main_button(new, "download").click()
    expect(added.locator('[role="progressbar"]')).to_be_visible(timeout=10_000)
    expect(added.locator(".pw-badge-on-device")).to_be_visible(timeout=30_000)
    assert live.model(new)["downloaded"] and len(live.weights()) == files + 1
    figure("step14", id=new, url=url)


def banner_state(live: Live) -> Locator:
    return live.widget.locator(".pieces-connection")


def row_buttons_disabled(live: Live) -> dict[str, bool]:
    """Each row action button, its menu's items too (Details excepted: it only shows what is
    known; More only opens the menu) -> disabled."""
    return live.widget.locator(".pw-row .pw-actions button[data-action]").evaluate_all(
        "bs => Object.fromEntries(bs.filter(b => b.dataset.action !== 'details')"
        ".map(b => [b.getAttribute('aria-label'), b.disabled]))"
    )


def shot(live: Live, name: str, target: Locator | None = None) -> Path:
    """A screenshot of the widget (or ``target``) in a state a step checked, for people to see."""
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"live-fixed-{name}.png"
    (target or live.widget).screenshot(path=str(path))
    return path


def resumable(live: Live, model_id: str) -> Locator:
    """The row's main button once it offers Download or Resume (a download stopped first)."""
    if live.model(model_id)["downloaded"]:
        requests.post(f"{live.server.url}/models/{model_id}/delete/cache", timeout=10)
    if live.model(model_id)["downloading"]:
        requests.post(f"{live.server.url}/model/{model_id}/download/cancel", timeout=10)
    main = live.main_button(model_id, "download")
    expect(main).to_be_visible(timeout=10_000)
    expect(main).not_to_have_attribute("aria-disabled", "true")
    return main


def test_step15_details_and_edit_layout(live: Live) -> None:
    """Details of a partial download: its state in words, each label on one line, no value that
    repeats its label; the Edit form's labels on one line (trial item 8)."""
    resumable(live, LLAMA)
    wait_for(lambda: live.model(LLAMA).get("partialBytes"), 5, "Llama 3 has a partial download")
    panel = live.set_open("details", LLAMA)
    state = detail(panel, "State")
    assert re.fullmatch(r"Partly downloaded \(\d+ %\)", state), state
    assert detail(panel, "Parameters") == "8 billion", detail(panel, "Parameters")
    assert detail(panel, "Context") == "8K tokens", detail(panel, "Context")
    heights = panel.locator("dt").evaluate_all(
        "dts => Object.fromEntries(dts.map(d => [d.textContent, d.getBoundingClientRect().height]))"
    )
    assert heights["Partial download"] == heights["Name"], heights
    details_shot = shot(live, "details-partial", live.row(LLAMA))
    live.set_open("details", LLAMA, False)
    form = live.set_open("edit", CUSTOM)
    tops = form.locator("label.pw-field").evaluate_all(
        "ls => ls.map(l => [l.firstChild.textContent, l.getBoundingClientRect().top])"
    )
    assert [t for t, _ in tops] == ["Name", "Description"], tops
    assert abs(tops[0][1] - tops[1][1]) < 1, f"labels not on one line: {tops}"
    edit_shot = shot(live, "edit-form", live.row(CUSTOM))
    live.set_open("edit", CUSTOM, False)
    figure("step15", state=state, dt_heights=heights, label_tops=tops,
           shots=[str(details_shot), str(edit_shot)])  # fmt: skip


BUSY = "Python 3 (ipykernel) | Busy"
WAITING_FOR_KERNEL = "Waiting for the kernel (a cell is running)…"


def run_cell(live: Live, code: str) -> None:
    """Type ``code`` into a new cell at the end of the notebook and run it, as a person does."""
    page = live.page
    page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")  # command mode
    page.keyboard.press("b")  # a new cell below
    page.keyboard.press("Enter")  # edit it
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")


def test_step16_click_while_a_cell_runs(live: Live) -> None:
    """Cancel pressed while a cell blocks the kernel (Jupyter holds the message until the cell
    ends): the button says so at once and keeps the focus, the row says after ~1.5 s that it waits
    for the kernel, and shows the canceled download once the cell ends (trial item 1)."""
    page, llama = live.page, live.row(LLAMA)
    bar = llama.locator('[role="progressbar"]')
    resumable(live, LLAMA).click()
    expect(bar).to_be_visible(timeout=20_000)  # a busy machine: the kernel is slow
    wait_ticks(bar, 2, "Llama 3 downloads")
    run_cell(live, "import time; time.sleep(6)")
    expect(page.get_by_text(BUSY)).to_be_visible(timeout=5_000)
    cancel = live.main_button(LLAMA, "cancel")
    clicked = time.monotonic()
    cancel.click()
    expect(cancel).to_have_text("Canceling…", timeout=500)
    marked = time.monotonic() - clicked
    expect(cancel).to_have_attribute("aria-disabled", "true")
    assert focused_row(page) == LLAMA and focused_action(live) == "cancel"
    status = llama.locator('[role="status"]')
    expect(status).to_have_text(WAITING_FOR_KERNEL, timeout=3_000)
    waiting = time.monotonic() - clicked
    assert 1.2 < waiting < 3, waiting
    moving = wait_ticks(bar, 2, "the download goes on: the kernel has not seen the Cancel")
    busy_shot = shot(live, "cancel-while-cell-runs", llama)
    assert live.model(LLAMA)["downloading"]
    expect(page.get_by_text(IDLE)).to_be_visible(timeout=15_000)
    expect(status).to_have_text("Download canceled", timeout=10_000)
    answered = time.monotonic() - clicked
    resume = live.main_button(LLAMA, "download")
    expect(resume).to_have_text(re.compile(r"^Resume \(\d+ %\)$"))
    expect(resume).not_to_have_attribute("aria-disabled", "true")
    assert focused_row(page) == LLAMA and focused_action(live) == "download"
    wait_for(lambda: not live.model(LLAMA)["downloading"], 5, "server: Llama 3 canceled")
    figure("step16", marked_after_s=round(marked, 2), waiting_after_s=round(waiting, 2),
           answered_after_s=round(answered, 2), bar_while_waiting=moving,
           shot=str(busy_shot))  # fmt: skip


def test_step17_double_click_on_resume_resumes_once(live: Live) -> None:
    """A double-click on Resume whose second click lands on the Cancel the first one's Resume
    turned into resumes, and does not cancel (trial item 2)."""
    page, llama = live.page, live.row(LLAMA)
    main = resumable(live, LLAMA).element_handle()  # the element, whatever its action becomes
    main.scroll_into_view_if_needed()
    box = main.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down(click_count=1)
    page.mouse.up(click_count=1)
    clicked = time.monotonic()
    # the second click as the kernel's answer turned the button into Cancel under the pointer
    wait_for(lambda: main.get_attribute("data-action") == "cancel", 5, "Resume turned to Cancel")
    gap = time.monotonic() - clicked
    second = main.evaluate("b => [b.textContent, b.dataset.action]")
    page.mouse.down(click_count=2)
    page.mouse.up(click_count=2)
    bar = llama.locator('[role="progressbar"]')
    expect(bar).to_be_visible(timeout=10_000)
    time.sleep(1.5)  # a Cancel sent by the second click would have landed by now
    wait_ticks(bar, 2, "the download runs")
    assert live.model(LLAMA)["downloading"], "the double-click canceled the download"
    expect(live.main_button(LLAMA, "cancel")).to_have_text("Cancel")
    expect(llama.locator('[role="status"]')).to_have_text("")
    expect(llama.locator(".pw-badge-downloading")).to_have_count(1)
    figure("step17", button_at_second_click=second, second_click_after_s=round(gap, 2),
           shot=str(shot(live, "downloading", llama)))  # fmt: skip


WAITING_FOR_SERVER = "Waiting for Pieces OS…"


def offline_row(llama: Locator) -> dict[str, Any]:
    return llama.evaluate(
        """r => ({ status: r.querySelector('[role="status"]').textContent,
                   text: r.querySelector('.pw-progress-text')?.textContent ?? null,
                   now: r.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'),
                   badges: [...r.querySelectorAll('.pw-badge')].map(b => b.textContent) })"""
    )


def test_step04_server_dies_and_returns_with_no_click(live: Live) -> None:
    """The banner goes red and back by itself. A download running then says it waits for Pieces
    OS at once, without a speed or ETA, its bar still (trial item 3); after the return, the row
    offers one way to download again, never a second Retry beside it (trial item 4)."""
    banner = banner_state(live)
    expect(banner).to_have_attribute("data-state", "connected")
    llama = live.row(LLAMA)
    if not live.model(LLAMA)["downloading"]:
        resumable(live, LLAMA).click()
    wait_ticks(llama.locator('[role="progressbar"]'), 2, "Llama 3 downloads")
    t0 = time.monotonic()
    live.server.stop()
    expect(banner).to_have_attribute("data-state", "unreachable", timeout=10_000)
    down = time.monotonic() - t0
    at_red = offline_row(llama)  # drawn in the same frame as the banner
    assert at_red["status"] == WAITING_FOR_SERVER, at_red
    expect(live.widget).to_have_class(re.compile(r"\bpw-unreachable\b"))
    wait_for(lambda: all(row_buttons_disabled(live).values()), 5, "row actions disabled")
    disabled = row_buttons_disabled(live)
    assert disabled, "no row action button found"
    samples = [at_red]
    for _ in range(3):  # the kernel's job meanwhile decays its speed and grows its ETA
        time.sleep(1.5)
        samples.append(offline_row(llama))
    for sample in samples:
        assert sample["status"] == WAITING_FOR_SERVER, samples
        text = sample["text"] or ""
        assert text and "/s" not in text and "ETA" not in text, samples
        assert not {"Downloading", "Stalled"} & set(sample["badges"]), samples
    assert len({(x["text"], x["now"]) for x in samples}) == 1, f"the bar moved: {samples}"
    shots = [shot(live, "offline-light")]
    try:
        lab_theme(live.page, "JupyterLab Dark")
        shots.append(shot(live, "offline-dark"))
    finally:
        lab_theme(live.page, "JupyterLab Light")
    port = live.server.port
    t1 = time.monotonic()
    live.server.start()
    assert live.server.port == port
    expect(banner).to_have_attribute("data-state", "connected", timeout=10_000)
    up = time.monotonic() - t1
    expect(live.widget).not_to_have_class(re.compile(r"\bpw-unreachable\b"))
    wait_for(lambda: not any(row_buttons_disabled(live).values()), 5, "row actions enabled")
    after: list[tuple[list[str], str | None]] = []
    for _ in range(25):  # the interrupted download: an alert, a resume, or both, never 2 buttons
        alert = llama.locator('[role="alert"]')
        texts = download_buttons(llama)
        after.append((texts, alert.inner_text() if alert.count() else None))
        assert len(texts) <= 1, after  # a Retry in the alert beside Resume would be a second
        time.sleep(0.2)
    shots.append(shot(live, "after-restart", llama))
    figure("step04", unreachable_after_s=round(down, 2), connected_after_s=round(up, 2),
           buttons_disabled=len(disabled), offline_samples=samples,
           after_restart=after[-1], shots=[str(p) for p in shots])  # fmt: skip


def test_step99_no_console_error_and_no_enum_token(live: Live) -> None:
    no_enum_tokens(live)
    assert live.page.get_by_text("Error displaying widget").count() == 0
    assert not live.errors.real(), live.errors.real()
