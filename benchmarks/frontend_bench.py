"""Front end in Chromium: main-thread time while 10 downloads tick over 1,000 listed models, ours
against the rebuild-per-tick front end of the first round (kept in ``benchmarks/baseline``),
driven through the same stand-in model in the same run; and the cost of a sort of 1,000 rows.

Main-thread time is Chromium's own ``TaskDuration`` metric (DevTools Performance domain): script,
style, layout and paint, everything the tab's main thread did while the ticks ran.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import statistics
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .common import Row

from jupyterlab import launch_chromium  # isort: skip

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "pieces_widget" / "static"
MODELS = 1000
ACTIVE = 10
SECONDS = 5.0
REPEATS = 3
FRONT_ENDS = {
    "ours": ("widget.js", "widget.css"),
    "baseline": ("widget_rebuild_per_tick.js", "widget_rebuild_per_tick.css"),
}


@contextmanager
def _serve(root: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _site(tmp: Path) -> Path:
    for path in (HERE / "harness").iterdir():
        shutil.copy(path, tmp / path.name)
    for name in ("widget.js", "widget.css"):
        shutil.copy(STATIC / name, tmp / name)
    for path in (HERE / "baseline").iterdir():
        shutil.copy(path, tmp / path.name)
    return tmp


def _measure(browser, base: str, front_end: str) -> dict[str, float]:
    js, css = FRONT_ENDS[front_end]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/index.html?js=./{js}&css=./{css}")
    page.wait_for_function("window.benchReady === true", timeout=30_000)
    rendered = page.evaluate(f"bench.render({MODELS})")
    assert rendered["rows"] >= MODELS * 0.9, f"{front_end} rendered {rendered['rows']} rows"
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def task_seconds() -> float:
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == "TaskDuration")

    before = task_seconds()
    page.evaluate(f"bench.tick({SECONDS}, {ACTIVE})")
    busy = (task_seconds() - before) / SECONDS
    sort_ms = page.evaluate("bench.sort('size')") if front_end == "ours" else 0.0
    assert not errors, f"{front_end}: {errors}"
    page.close()
    return {"busy_ms_per_s": busy * 1000, "render_ms": rendered["ms"], "sort_ms": sort_ms}


def run() -> list[Row]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
    with (
        tempfile.TemporaryDirectory() as tmp,
        _serve(_site(Path(tmp))) as base,
        sync_playwright() as pw,
    ):
        browser = launch_chromium(pw)
        for _ in range(REPEATS):  # interleaved, so machine noise hits both alike
            for front_end in ("baseline", "ours"):
                results[front_end].append(_measure(browser, base, front_end))
        browser.close()

    def median(front_end: str, key: str) -> float:
        return statistics.median(r[key] for r in results[front_end])

    ours, theirs = median("ours", "busy_ms_per_s"), median("baseline", "busy_ms_per_s")
    ratio = ours / theirs
    render_ms, sort_ms = median("ours", "render_ms"), median("ours", "sort_ms")
    return [
        Row(
            f"main-thread ms per s, {ACTIVE} downloads ticking over {MODELS} models",
            f"{ours:.1f}",
            f"rebuild-per-tick {theirs:.1f}",
            ratio,
            "<= 0.2x",
            ratio <= 0.2,
        ),
        Row(
            f"sort+group {MODELS} rows (ms) vs their first render",
            f"{sort_ms:.0f}",
            f"render {render_ms:.0f}",
            sort_ms / render_ms,
            "<= 1.0x",
            sort_ms <= render_ms,
        ),
    ]


if __name__ == "__main__":
    from .__main__ import table

    print(table(run()))
