"""pieces-widget in marimo: ``marimo run notebooks/marimo_demo.py`` (or ``marimo edit``)."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import threading
    import time

    import marimo as mo

    return mo, threading, time


@app.cell
def _(mo):
    mo.md(r"""
    # pieces-widget in marimo

    Manage the local AI models of Pieces OS. Without a running Pieces OS, the next cell
    starts the bundled reference server with the demo catalog.
    """)
    return


@app.cell
def _():
    from pieces_widget import ModelManager
    from pieces_widget.demo import find_or_start_server

    mgr = ModelManager(base_url=find_or_start_server())
    return (mgr,)


@app.cell
def _(mgr, mo):
    widget = mo.ui.anywidget(mgr)
    widget  # noqa: B018 - a cell's last expression is its output
    return (widget,)


@app.cell
def _(mgr, mo, threading, time):
    # marimo re-runs the cells that read `widget.value` only when the browser changes a trait.
    # The manager changes its traits from its own threads, so this mo.Thread turns each change
    # into a mo.state update, which marimo does act on: the summary below stays true.
    get_tick, set_tick = mo.state(0)

    def watch() -> None:
        changed = threading.Event()

        def on_change(_change: object) -> None:
            changed.set()

        names = ["models", "downloads", "connection", "error"]
        mgr.observe(on_change, names=names)
        me = mo.current_thread()
        try:
            while not me.should_exit:
                if changed.wait(0.5):
                    changed.clear()
                    set_tick(lambda n: n + 1)
                    time.sleep(0.25)  # at most ~4 re-runs a second
        finally:
            mgr.unobserve(on_change, names=names)

    mo.Thread(target=watch, name="marimo-demo-watch", daemon=True).start()
    return (get_tick,)


@app.cell
def _(get_tick, mo, widget):
    get_tick()
    value = widget.value
    rows = value["models"]
    on_disk = sum(bool(m.get("downloaded")) for m in rows)
    loaded = sum(bool(m.get("loaded")) for m in rows)
    running = {
        k: d for k, d in value["downloads"].items() if d["status"] in ("INITIALIZED", "IN-PROGRESS")
    }
    moving = ", ".join(f"{k} {d['percentage'] or 0:.0f} %" for k, d in running.items())
    state = value["connection"]["state"]
    text = f"`widget.value`: **{state}**, models: {len(rows)}, downloaded: {on_disk}"
    text += f", loaded: {loaded}" + (f", downloading: {moving}" if moving else "")
    mo.md(text).callout(kind="info")
    return


if __name__ == "__main__":
    app.run()
