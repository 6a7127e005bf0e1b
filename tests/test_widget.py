"""ModelManager with a recording comm (Jupyter's transport, recorded): coalesced pushes, the final
state always sent, two views, re-running the cell, close, reprs, ensure."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator

import pytest
from faultserver import FaultServer
from recordingcomm import recording, updates
from serverproc import ServerProcess

from pieces_widget import ModelManager, PiecesClient, PiecesError


@pytest.fixture(autouse=True)
def recording_comm() -> Iterator[list]:
    with recording() as log:
        yield log


def wait_for(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_flood_is_coalesced_and_the_final_state_sent(
    fault: FaultServer, recording_comm: list
) -> None:
    n = 20_000
    fault.frames = [
        json.dumps({"status": "IN-PROGRESS", "percentage": i * 100 / n}) for i in range(n)
    ]
    fault.frames.append(json.dumps({"status": "COMPLETED", "percentage": 100}))
    fault.frame_interval = 0
    mgr = ModelManager(base_url=fault.url)
    job = mgr.download("m")
    assert job.wait(60) == "COMPLETED"
    wait_for(lambda: mgr.downloads.get("m", {}).get("status") == "COMPLETED")
    sent = updates(recording_comm, "downloads")
    span = sent[-1][0] - sent[0][0]
    assert len(sent) <= 10 * span + 3, f"{len(sent)} messages in {span:.1f} s"
    assert sent[-1][1]["m"]["status"] == "COMPLETED" and sent[-1][1]["m"]["percentage"] == 100
    assert len(sent) < n / 100
    per_tick = [len(json.dumps(d)) for _, d in sent]
    assert max(per_tick) < 1024, "a progress tick is under 1 KB"
    mgr.close()


def test_download_load_unload_through_the_widget(
    server: ServerProcess, recording_comm: list
) -> None:
    mgr = ModelManager(base_url=server.url)
    mgr.refresh().result(10)
    wait_for(lambda: mgr.connection.get("state") == "connected" and len(mgr.models) == 4)
    assert mgr.connection["version"] == "11.0.0"
    assert mgr.download("small").wait(30) == "COMPLETED"
    wait_for(lambda: next(m for m in mgr.models if m["id"] == "small")["downloaded"])
    assert mgr.load("small").result(30).loaded
    wait_for(lambda: next(m for m in mgr.models if m["id"] == "small")["loaded"])
    assert not mgr.unload("small").result(30).loaded
    with pytest.raises(PiecesError, match="not downloaded"):
        mgr.load("medium").result(10)
    wait_for(lambda: "medium" in mgr._row_errors)
    assert "not downloaded" in mgr.error
    mgr.close()


def test_command_messages_from_the_front_end(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url, watch_interval=None)
    mgr.refresh().result(10)
    mgr._on_command(None, {"action": "download", "id": "small"}, [])
    wait_for(lambda: mgr.downloads.get("small", {}).get("status") == "COMPLETED")
    mgr._on_command(
        None, {"action": "update", "id": "small", "fields": {"name": "Edited", "id": "x"}}, []
    )
    wait_for(lambda: next(m for m in mgr.models if m["id"] == "small")["name"] == "Edited")
    PiecesClient(server.url).load("small")  # another client's change...
    mgr._on_command(None, {"action": "details", "id": "small"}, [])  # ...seen through Details
    wait_for(lambda: next(m for m in mgr.models if m["id"] == "small")["loaded"])
    mgr._on_command(None, {"action": "unload_all"}, [])
    wait_for(lambda: not next(m for m in mgr.models if m["id"] == "small")["loaded"])
    mgr._on_command(None, {"action": "delete", "id": "small"}, [])
    wait_for(lambda: not next(m for m in mgr.models if m["id"] == "small")["downloaded"])
    assert "small" not in mgr.downloads  # no bar, no "Downloaded" for deleted weights
    mgr._on_command(None, {"action": "explode", "id": "small"}, [])  # ignored
    mgr._on_command(None, "not a dict", [])  # ignored
    mgr._on_command(None, {"action": "load", "id": None}, [])  # a bad id: said, not raised
    wait_for(lambda: "string" in mgr.error)
    mgr.close()


def test_rerun_attaches_without_a_second_download(server: ServerProcess) -> None:
    first = ModelManager(base_url=server.url)
    first.refresh().result(10)
    job = first.download("medium")
    time.sleep(0.8)
    second = ModelManager(base_url=server.url)  # the cell run again
    second.refresh().result(10)
    wait_for(lambda: "medium" in second._jobs)
    assert job.wait(30) == "COMPLETED" and second._jobs["medium"].wait(30) == "COMPLETED"
    assert first.download("medium").wait(5) == "COMPLETED"  # already there: no new transfer
    assert len(re.findall(r'"GET /hub/medium-25165824.bin', server.log())) == 1
    first.close()
    second.close()


def test_server_down_never_raises_and_recovers(tmp_path, catalog_path) -> None:
    server = ServerProcess(tmp_path / "d", catalog_path).start()
    url = server.url
    server.stop()
    mgr = ModelManager(base_url=url)
    assert mgr.connection.get("state") == "unreachable"  # known before the cell ends
    assert mgr.connection["message"] == f"Can't reach Pieces OS at {url}. Is it running?"
    port = int(url.rsplit(":", 1)[1])
    with ServerProcess(tmp_path / "d", catalog_path, port=port):
        mgr.refresh().result(10)
        wait_for(lambda: mgr.connection.get("state") == "connected")
    mgr.close()


def test_close_leaves_no_threads(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url)
    mgr.refresh().result(10)
    mgr.download("medium")
    time.sleep(0.5)
    mgr.close()
    time.sleep(0.3)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("pieces-")]


def test_reprs_say_what_the_widget_shows(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url)
    mgr.refresh().result(10)
    wait_for(lambda: len(mgr.models) == 4)
    text = repr(mgr)
    assert "4 models, 0 downloaded, 0 loaded" in text and "Small Model [small]" in text
    bundle = mgr._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle  # anywidget adds metadata
    assert "<td>Small Model</td>" in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    mgr.close()


def test_ensure_is_idempotent(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url)
    models = mgr.ensure(["small"], load=True, timeout=30)
    assert models[0].downloaded and models[0].loaded
    again = mgr.ensure("small", load=True, timeout=30)
    assert again[0].loaded
    assert len(re.findall(r'"GET /hub/small-4194304.bin', server.log())) == 1
    with pytest.raises(PiecesError, match="badsum: FAILED"):
        mgr.ensure(["badsum"], timeout=30)
    mgr.close()
