"""ModelManager with a recording comm (Jupyter's transport, recorded): coalesced pushes, the final
state always sent, two views, re-running the cell, close, reprs, ensure."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator

import psutil
import pytest
from faultserver import FaultServer, SlowServer
from recordingcomm import recording, updates
from serverproc import ServerProcess
from waiting import wait_for

from pieces_widget import ModelManager, PiecesClient, PiecesError


@pytest.fixture(autouse=True)
def recording_comm() -> Iterator[list]:
    with recording() as log:
        yield log


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
    mgr._on_command(None, {"action": "snapshot", "id": "small"}, [])  # ...seen through Details
    wait_for(lambda: next(m for m in mgr.models if m["id"] == "small")["loaded"])
    mgr._on_command(None, {"action": "unload_all"}, [])
    wait_for(lambda: not next(m for m in mgr.models if m["id"] == "small")["loaded"])
    mgr._on_command(None, {"action": "delete", "id": "small"}, [])
    # the weights gone, and no bar, no "Downloaded" for them (both reach the traits in one send,
    # or the next one: the writer coalesces)
    wait_for(
        lambda: (
            not next(m for m in mgr.models if m["id"] == "small")["downloaded"]
            and "small" not in mgr.downloads
        )
    )
    mgr._on_command(None, {"action": "explode", "id": "small"}, [])  # ignored
    mgr._on_command(None, "not a dict", [])  # ignored
    mgr._on_command(None, {"action": "load", "id": None}, [])  # a bad id: said, not raised
    wait_for(lambda: "string" in mgr.error)
    mgr.close()


def test_rerun_attaches_without_a_second_download(server: ServerProcess) -> None:
    first = ModelManager(base_url=server.url)
    first.refresh().result(10)
    job = first.download("medium")
    wait_for(lambda: job.bytes_done, message="the first download moving")
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
    job = mgr.download("medium")
    wait_for(lambda: job.bytes_done, message="the download moving")
    mgr.close()
    wait_for(
        lambda: not [t.name for t in threading.enumerate() if t.name.startswith("pieces-")],
        timeout=1,
        message="no pieces- thread after close()",
    )


def test_reprs_say_what_the_widget_shows(server: ServerProcess) -> None:
    mgr = ModelManager(base_url=server.url)
    mgr.refresh().result(10)
    wait_for(lambda: len(mgr.models) == 4)
    text = repr(mgr)
    assert "4 models, 0 downloaded, 0 loaded" in text
    # the state in the widget's words (core/labels.py state_words, js/src/labels.js stateWords)
    assert "Small Model [small] 4.2 MB: Not downloaded · Custom\n" in text
    bundle = mgr._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle  # anywidget adds metadata
    assert "<td>Small Model</td>" in bundle["text/html"]
    assert "<td>4.2 MB</td><td>Not downloaded · Custom</td>" in bundle["text/html"]
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


def test_a_name_no_encoding_can_carry_breaks_nothing(fault: FaultServer) -> None:
    """A lone surrogate in a model's name reaches every message the widget sends (packed as
    Jupyter packs them): it is replaced, the rest of the list shows, updates keep flowing."""
    fault.model.update(name="bad\ud800name", downloading=False)
    mgr = ModelManager(base_url=fault.url, watch_interval=None)
    wait_for(lambda: mgr.connection.get("state") == "connected")
    assert mgr.models[0]["name"] == "bad\ufffdname"
    assert "bad\ufffdname" in repr(mgr)
    fault.model.update(description="edited \udfff too")
    mgr.snapshot("m").result(5)
    wait_for(lambda: mgr.models[0].get("description") == "edited \ufffd too")
    mgr.close()


@pytest.mark.parametrize("shared", [False, True])
def test_a_silent_pieces_os_never_blocks_the_kernel(shared: bool) -> None:
    """Against a server that takes requests and answers none: the constructor waits only its
    first-answer bound, download() and summary() return at once, and close() cuts what is in
    flight (the manager's own calls only, on a shared client), leaving no thread, no socket."""
    slow = SlowServer()
    client = PiecesClient(slow.url) if shared else None
    try:
        began = time.monotonic()
        mgr = ModelManager(
            client=client, base_url=slow.url, watch_interval=None, first_answer_timeout=0.3
        )
        assert time.monotonic() - began < 1.0
        began = time.monotonic()
        job = mgr.download("m")  # not in the (empty) list: the job asks, the cell goes on
        summary = mgr.summary()
        assert time.monotonic() - began < 1.0, "download() and summary() must not wait"
        assert summary.on_device == 0 and not job.done
        wait_for(lambda: slow.requests >= 3, timeout=5)  # refresh, the job, the capabilities
        began = time.monotonic()
        mgr.close()
        assert time.monotonic() - began < 2.5
        wait_for(lambda: slow.open == 0, timeout=3)
        wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("pieces-")], 1)
    finally:
        if client is not None:
            client.close()
        slow.close()


def test_thousands_of_downloads_elsewhere_cost_a_few_watchers(fault: FaultServer) -> None:
    """A list of 3,000 models all downloading (started elsewhere): a few are followed live,
    the others show from the list; threads and sockets stay a handful."""
    from pieces_widget.widget.manager import MAX_WATCHERS

    fault.ws = "silent"
    fault.listing = [
        {"id": f"m{i}", "name": f"M {i}", "downloading": True, "downloaded": False}
        for i in range(3000)
    ]
    mgr = ModelManager(base_url=fault.url, watch_interval=None)
    try:
        mgr.refresh().result(20)
        wait_for(lambda: len(mgr.models) == 3000)
        followed = lambda: [j for j in mgr._jobs.values() if not j.done]  # noqa: E731
        wait_for(lambda: len(followed()) >= MAX_WATCHERS, timeout=5)
        mgr.refresh().result(20)  # a later refresh starts no more
        # A sleep on purpose: nothing to wait for; a watcher started wrongly would open its
        # thread and socket within this time.
        time.sleep(0.3)
        threads = [t.name for t in threading.enumerate() if t.name.startswith("pieces-")]
        sockets = [
            c for c in psutil.Process().net_connections("tcp")
            if c.raddr and c.raddr.port == fault.port and c.status == "ESTABLISHED"
        ]  # fmt: skip
        assert len(followed()) == MAX_WATCHERS
        assert len(threads) <= 2 * MAX_WATCHERS + 3, threads  # a job and its socket's reader
        # per watcher its progress socket and a pooled HTTP connection (it reconciles
        # alongside), plus the list's
        assert len(sockets) <= 2 * MAX_WATCHERS + 3, sockets
        assert all(m["downloading"] for m in mgr.models)  # the rest: as the list says
    finally:
        mgr.close()
