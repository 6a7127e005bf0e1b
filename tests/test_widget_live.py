"""ModelManager while things move: the server dying and returning with no click, other clients'
changes, many managers created and closed, bad ids, and the reprs a saved notebook keeps."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from recordingcomm import recording
from serverproc import ServerProcess
from waiting import seconds_until, wait_for

from pieces_widget import ModelManager, ModelNotFoundError, PiecesClient


@pytest.fixture(autouse=True)
def recording_comm() -> Iterator[list]:
    with recording() as log:
        yield log


def show(mgr: ModelManager, on: bool = True, view: str = "v1") -> None:
    """What the browser sends when a view of the widget is displayed or goes away."""
    mgr._on_command(None, {"action": "view", "open": on, "view": view}, [])


def watching() -> bool:
    return any(t.name == "pieces-widget-watch" for t in threading.enumerate())


def model(mgr: ModelManager, model_id: str) -> dict:
    return next(m for m in mgr.models if m["id"] == model_id)


def test_banner_follows_the_server_with_no_click(tmp_path: Path, catalog_path: Path) -> None:
    server = ServerProcess(tmp_path / "d", catalog_path).start()
    port = server.port
    mgr = ModelManager(base_url=server.url, watch_interval=1.0)
    assert mgr.connection["state"] == "connected" and len(mgr.models) == 4
    assert not watching()  # no view on a page yet: no watch
    show(mgr)
    wait_for(watching, timeout=5)

    PiecesClient(server.url).download("small")  # another client's change shows by itself
    wait_for(lambda: model(mgr, "small")["downloaded"], timeout=10)

    server.stop()
    down = seconds_until(lambda: mgr.connection["state"] == "unreachable", timeout=10)
    assert mgr.connection["message"] == f"Can't reach Pieces OS at {server.url}. Is it running?"
    with ServerProcess(tmp_path / "d", catalog_path, port=port) as again:
        PiecesClient(again.url).load("small")
        up = seconds_until(lambda: mgr.connection["state"] == "connected", timeout=10)
        wait_for(lambda: model(mgr, "small")["loaded"], timeout=5)  # the list refreshed
    assert down < 10 and up < 10
    show(mgr, False)  # the view went away (cell re-run, tab closed): the watch stops
    wait_for(lambda: not watching(), timeout=5)
    mgr.close()


def test_a_row_downloading_through_a_restart_completes(server: ServerProcess) -> None:
    """Pieces OS quits (SIGTERM) mid-download and starts again: the row's job asks again and
    the server resumes; the row ends COMPLETED with no click."""
    mgr = ModelManager(base_url=server.url, watch_interval=0.5)
    show(mgr)
    mgr.download("medium")
    wait_for(lambda: (mgr.downloads.get("medium", {}).get("percentage") or 0) > 10, timeout=10)
    server.stop()
    wait_for(lambda: mgr.connection["state"] == "unreachable", timeout=5)
    assert mgr.downloads["medium"]["status"] == "IN-PROGRESS"  # not failed while away
    server.start()
    wait_for(lambda: mgr.downloads["medium"]["status"] == "COMPLETED", timeout=20)
    wait_for(lambda: model(mgr, "medium")["downloaded"], timeout=5)
    assert mgr.connection["state"] == "connected" and mgr.downloads["medium"]["error"] is None
    assert mgr._jobs["medium"].resumes == 1
    show(mgr, False)
    mgr.close()


def test_row_alert_ends_on_success_and_on_reconnect(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url, watch_interval=None)
    mgr.load("medium")  # not downloaded: the server refuses
    wait_for(lambda: "not downloaded" in mgr._row_errors.get("medium", ""))
    mgr.download("medium").wait(30)
    mgr.load("medium").result(30)
    wait_for(lambda: "medium" not in mgr._row_errors)
    mgr.close()


def _open_sockets() -> int:
    return len(psutil.Process().net_connections(kind="tcp"))


def test_fifty_managers_leave_nothing_behind(server: ServerProcess) -> None:
    before_fds, before_socks = psutil.Process().num_fds(), _open_sockets()
    refs = []
    for _ in range(50):
        mgr = ModelManager(base_url=server.url, watch_interval=0.2)
        show(mgr)
        mgr.refresh()  # closed while this may still run
        mgr.close()
        refs.append(weakref.ref(mgr))
    del mgr
    wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("pieces-")], 5)
    gc.collect()
    assert _open_sockets() <= before_socks and psutil.Process().num_fds() <= before_fds + 2
    assert sum(r() is not None for r in refs) == 0, "closed managers are garbage collected"


@pytest.mark.parametrize(
    ("bad", "error"), [(None, TypeError), ("", ValueError), ("\udcff", ValueError)]
)
def test_bad_ids_are_one_line_errors(server: ServerProcess, bad: object, error: type) -> None:
    mgr = ModelManager(base_url=server.url, watch_interval=None)
    for call in (mgr.download, mgr.load, mgr.cancel, mgr.delete, mgr.remove, mgr.ensure):
        with pytest.raises(error) as info:
            call(bad)  # type: ignore[arg-type]
        assert "\n" not in str(info.value) and "subscriptable" not in str(info.value)
    mgr.close()


def test_an_unknown_id_is_refused_at_once(fast_server: ServerProcess) -> None:
    mgr = ModelManager(base_url=fast_server.url, watch_interval=None)
    with pytest.raises(ModelNotFoundError, match="'nope' was not found"):
        mgr.download("nope")  # as load, ensure and the client do
    assert "nope" not in mgr.downloads and not mgr._jobs
    # Another client adds a model after the list was read: the server knows it, so it downloads.
    url = f"{fast_server.url}/hub/small-4194304.bin"
    late = PiecesClient(fast_server.url).create_model({"name": "Late", "source": {"url": url}})
    assert all(m["id"] != late.id for m in mgr.models)
    assert mgr.download(late.id).wait(30) == "COMPLETED"
    # The page asking for a model that is gone: said in its row, never raised in the kernel.
    mgr._on_command(None, {"action": "download", "id": "gone"}, [])
    wait_for(lambda: "'gone' was not found" in mgr._row_errors.get("gone", ""), timeout=5)
    job = mgr.download("small")
    assert job.wait(30) == "COMPLETED"
    assert repr(job) == "<DownloadJob 'small' COMPLETED, 100.0 % of 4.2 MB>"
    assert repr(mgr.ensure(["small"])) == "[<Model 'small' 'Small Model', On device · Custom>]"
    mgr.close()


def test_saved_notebook_shows_the_real_list(server: ServerProcess, tmp_path: Path) -> None:
    """nbconvert runs a real kernel; the saved text/plain and text/html say 4 models."""
    source = f"from pieces_widget import ModelManager\nModelManager(base_url={server.url!r})"
    cell = {"cell_type": "code", "id": "c0", "metadata": {}, "source": source,
            "execution_count": None, "outputs": []}  # fmt: skip
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb = {"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "saved.ipynb"
    path.write_text(json.dumps(nb))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--inplace", str(path)],
        check=True, capture_output=True, timeout=120, env=env,
    )  # fmt: skip
    data = json.loads(path.read_text())["cells"][0]["outputs"][0]["data"]
    text, page = "".join(data["text/plain"]), "".join(data["text/html"])
    assert "(connected): 4 models, 0 downloaded, 0 loaded" in text
    assert "Small Model [small]" in text and "<td>Medium Model</td>" in page


def test_cancel_right_after_download_wins(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url, watch_interval=None)
    for _ in range(3):
        job = mgr.download("medium")
        mgr.cancel("medium").result(10)
        assert job.wait(10) == "CANCELED"
        time.sleep(0.2)  # a sleep on purpose: a download started wrongly would show by now
        assert not PiecesClient(server.url).snapshot("medium").downloading
    assert not PiecesClient(server.url).snapshot("medium").downloaded
    mgr.close()


def test_a_closed_manager_starts_nothing(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url, watch_interval=None)
    mgr.close()
    for call in (lambda: mgr.download("small"), lambda: mgr.load("small"), mgr.refresh):
        with pytest.raises(RuntimeError, match="closed"):
            call()
    time.sleep(0.2)  # a sleep on purpose: a download started wrongly would show by now
    assert not PiecesClient(server.url).snapshot("small").downloading


def test_removing_a_model_mid_download_leaves_nothing(fast_server: ServerProcess) -> None:
    url = f"{fast_server.url}/hub/medium-25165824.bin"
    mgr = ModelManager(base_url=fast_server.url, watch_interval=None)
    added = mgr.add_model("Throwaway", url).result(10)
    job = mgr.download(added.id)
    mgr.remove(added.id).result(10)
    # remove() stopped the job: it ends COMPLETED when the download won the race, and never
    # ends otherwise (waiting for it to be done failed the test on a busy machine)
    job.stop(5)  # its thread has ended, so its last update is in...
    mgr._state.flush()  # ...and in the traits
    assert added.id not in mgr.downloads and all(m["id"] != added.id for m in mgr.models)
    assert "not found" not in mgr.error
    mgr.close()


def test_a_server_error_is_not_unreachable(fault) -> None:
    fault.status_for["/models"] = (500, "database is locked")
    mgr = ModelManager(base_url=fault.url, watch_interval=None)
    assert mgr.connection["state"] == "error"
    assert "database is locked" in mgr.connection["message"]
    mgr.close()
