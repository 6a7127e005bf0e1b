"""Widget: 1,000 models rendered in Chromium vs an ipywidgets composite; bytes per progress tick."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from .common import MiB, Row, ServerProcess, local_model, median_of, write_catalog

from jupyterlab import IDLE, JupyterLab, launch_chromium, write_notebook  # isort: skip
from recordingcomm import recording, updates  # isort: skip

MODELS = 1000
REPEATS = 3
OURS = "ModelManager(base_url=URL)"
# What a user would write by hand with ipywidgets: a row of Label, Button, FloatProgress each.
THEIRS = (
    "models = PiecesClient(URL).models()\n"
    "W.VBox([W.HBox([W.Label(m.name), W.Button(description='Download'),"
    " W.FloatProgress(min=0, max=100)]) for m in models])"
)
# 'ok' once cell k shows n rows, 'error' if its output shows a widget error instead.
ROWS_OR_ERROR = """([k, sel, n]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[k];
  if (!cell) return false;
  if (cell.querySelectorAll(sel).length >= n) return 'ok';
  const text = cell.textContent;
  if (text.includes('javascript error') || text.includes('Error displaying widget')) return 'error';
  return false;
}"""


def _catalog(tmp: Path) -> Path:
    """1,000 local models (never downloaded here, so no blobs are generated) + 1 real one."""
    models = [
        {
            "id": f"bench-{i:04d}",
            "name": f"Bench Model {i}",
            "foundation": "LLAMA_3_8B",
            "provider": "META",
            "quantization": "q4f16_1",
            "source": {"url": "{server}/hub/none.bin", "sha256": "0" * 64, "bytes": 10**9 + i},
        }
        for i in range(MODELS)
    ]
    models.append(local_model("real", 16 * MiB, name="Real Download"))
    return write_catalog(tmp / "thousand.json", models)


def render_thousand(tmp: Path) -> Row:
    """Time from running the cell to all 1,000 rows in the DOM, ours vs the composite."""
    from playwright.sync_api import expect, sync_playwright

    root = tmp / "nb"
    root.mkdir()
    with ServerProcess(tmp / "data", _catalog(tmp)) as server:
        setup = (
            f"URL = {server.url!r}\n"
            "import ipywidgets as W\nfrom pieces_widget import ModelManager, PiecesClient"
        )
        # Ours first, then the composite: a composite try can leave the kernel busy for minutes
        # after it drew (its front end sends thousands of comm messages), which must cost that
        # try, not the others.
        cells = [OURS] * REPEATS + [THEIRS] * REPEATS
        write_notebook(root / "bench.ipynb", [setup, *cells])
        ours: list[float] = []
        theirs: list[float] = []
        baseline_failures = 0
        kernel_stuck = False
        # The composite's 4,001 widgets send more comm messages than Jupyter Server's default
        # 1,000 msg/s iopub limit lets through ("model not found"); lift it so the baseline can
        # finish at all. Ours sends a handful of messages either way.
        unlimited = (
            "--ServerApp.iopub_msg_rate_limit=1e12",
            "--ServerApp.iopub_data_rate_limit=1e12",
        )
        with JupyterLab(root, tmp, args=unlimited) as lab, sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(lab.url("bench.ipynb"))
            expect(page.get_by_text(IDLE)).to_be_visible(timeout=90_000)
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.keyboard.press("Escape")
            page.keyboard.press("Shift+Enter")  # setup cell
            expect(page.get_by_text(IDLE)).to_be_visible(timeout=60_000)
            page.wait_for_timeout(500)
            for k, cell in enumerate(cells, start=1):
                is_ours = cell == OURS
                selector = ".pieces-widget [data-model-id]" if is_ours else ".widget-hbox"
                began = time.perf_counter()
                page.keyboard.press("Shift+Enter")
                try:
                    outcome = page.wait_for_function(
                        ROWS_OR_ERROR, arg=[k, selector, MODELS], polling="raf", timeout=120_000
                    ).json_value()
                except Exception:
                    page.screenshot(path=str(tmp.parent / "widget-bench-timeout.png"))
                    if is_ours:
                        raise RuntimeError(
                            f"cell {k}: {MODELS} rows not rendered in 120 s"
                        ) from None
                    outcome = "timeout"  # the composite never finished drawing: a failure
                elapsed = time.perf_counter() - began
                if outcome == "ok":
                    (ours if is_ours else theirs).append(elapsed)
                elif is_ours:
                    raise RuntimeError(f"cell {k}: the ModelManager output shows an error")
                else:
                    baseline_failures += 1  # the composite broke in the front end (see README)
                try:
                    expect(page.get_by_text(IDLE)).to_be_visible(timeout=120_000)
                except AssertionError:
                    if is_ours:
                        raise
                    kernel_stuck = True  # still busy with the composite's messages: the next
                    break  # try would only queue behind it, so it ends the baseline's tries
                page.wait_for_timeout(500)
            browser.close()
    tries = len(theirs) + baseline_failures
    # No try drew within 120 s: 120 s is a lower bound of the composite's time.
    baseline = median_of(theirs) if theirs else 120.0
    stuck = "; then the kernel stayed busy over 120 s, ending its tries" if kernel_stuck else ""
    ratio = baseline / median_of(ours)
    return Row(
        f"{MODELS:,} models: run cell -> all rows rendered in Chromium (s)",
        f"{median_of(ours):.2f}",
        f"ipywidgets VBox(HBox(Label, Button, FloatProgress)) "
        f"{baseline:.2f}{'' if theirs else '+'} (iopub limit lifted; failed to display, or not"
        f" within 120 s, in {baseline_failures} of {tries} tries{stuck})",
        ratio,
        ">= 10x faster",
        ratio >= 10,
    )


def bytes_per_tick(tmp: Path) -> Row:
    """Size of each progress update sent to the browser, with 1,000 models in the list."""
    from pieces_widget import ModelManager

    with ServerProcess(tmp / "tick", _catalog(tmp), hub_rate=4 * MiB) as server, recording() as log:
        mgr = ModelManager(base_url=server.url)
        mgr.refresh().result(30)
        assert mgr.download("real").wait(60) == "COMPLETED"
        time.sleep(0.5)
        mgr.close()
    ticks = [len(json.dumps(value)) for _, value in updates(log, "downloads")]
    model_list = max(len(json.dumps(value)) for _, value in updates(log, "models"))
    biggest = max(ticks)
    return Row(
        f"bytes sent per progress tick, {MODELS:,} models listed (max of {len(ticks)} ticks)",
        f"{biggest} B",
        f"re-sending the model list {model_list:,} B",
        biggest / 1024,
        "<= 1 KB",
        biggest <= 1024,
    )


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        return [render_thousand(Path(tmp)), bytes_per_tick(Path(tmp))]
