"""Disk and memory from Python, against the real reference server: delete weights, unload all,
add and remove custom models (persisting across a restart), and the summary's figures."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from recordingcomm import recording
from serverproc import MiB, ServerProcess
from waiting import wait_for

from pieces_widget import (
    Model,
    ModelManager,
    ModelNotFoundError,
    PiecesClient,
    PiecesError,
    PiecesServerError,
)


@pytest.fixture(autouse=True)
def recording_comm() -> Iterator[list]:
    with recording() as log:
        yield log


def weights(server: ServerProcess) -> list[Path]:
    return sorted((server.data_dir / "models").glob("*.bin"))


def test_delete_weights_unloads_first_and_frees_the_file(fast_server: ServerProcess) -> None:
    client = PiecesClient(fast_server.url)
    client.download("small")
    wait_for(lambda: client.snapshot("small").downloaded, message="small downloaded")
    assert client.load("small").loaded and len(weights(fast_server)) == 1
    out = client.delete("small")
    assert out["model"]["id"] == "small"
    model = client.snapshot("small")
    assert not model.loaded and not model.downloaded and weights(fast_server) == []
    with pytest.raises(ModelNotFoundError):
        client.delete("no-such-model")


def test_delete_during_a_download_cancels_it(server: ServerProcess) -> None:
    client = PiecesClient(server.url)
    client.download("medium")
    wait_for(lambda: client.snapshot("medium").partial_bytes, message="bytes downloaded")
    client.delete("medium")
    model = client.snapshot("medium")
    assert not model.downloading and not model.downloaded
    assert not list((server.data_dir / "models").iterdir())  # no partial file left either


def test_unload_all(fast_server: ServerProcess) -> None:
    client = PiecesClient(fast_server.url)
    mgr = ModelManager(client=client, watch_interval=None)
    mgr.ensure(["small", "medium"], load=True, timeout=30)
    assert sum(m.loaded for m in client.models()) == 2
    mgr.unload_all().result(10)
    assert not any(m.loaded for m in client.models())
    assert not any(m["loaded"] for m in mgr.models)
    mgr.close()


class AnswerDuringTheList(PiecesClient):
    """A real client whose next list read runs ``between`` after the list came back and before
    the manager gets it: another answer lands while the list is on its way."""

    between: Callable[[], object] | None = None

    def models(self) -> list[Model]:
        models = super().models()
        if self.between is not None:
            between, self.between = self.between, None
            between()
        return models


def test_unload_all_shows_its_result_when_another_answer_lands_meanwhile(
    fast_server: ServerProcess,
) -> None:
    """The flake of test_unload_all, made to happen every time: a single model's answer landing
    during unload_all's list read made the manager drop the whole list."""
    client = AnswerDuringTheList(fast_server.url)
    mgr = ModelManager(client=client, watch_interval=None)
    mgr.ensure(["small", "medium"], load=True, timeout=30)

    def loaded() -> dict[str, bool]:
        return {m["id"]: m["loaded"] for m in mgr.models if m["id"] in ("small", "medium")}

    assert loaded() == {"small": True, "medium": True}
    client.between = lambda: mgr.snapshot("small").result(10)
    mgr.unload_all().result(10)
    assert client.between is None  # the answer did land during the list read
    assert loaded() == {"small": False, "medium": False}
    mgr.close()


class ReadWhileTheWriteIsOnItsWay(PiecesClient):
    """A real client whose next ``update`` first lets ``before`` run: a read sent after the
    write started and answered before the server applied it (as a download's last look can)."""

    before: Callable[[], object] | None = None

    def update(self, model: dict[str, Any]) -> Model:
        if self.before is not None:
            before, self.before = self.before, None
            before()
        return super().update(model)


def test_a_write_shows_its_answer_when_a_read_sent_after_it_came_back_first(
    fast_server: ServerProcess,
) -> None:
    """The lowest-versions flake of test_command_messages_from_the_front_end, made to happen
    every time: the write took its ticket when sent, so the older read's answer won."""
    client = ReadWhileTheWriteIsOnItsWay(fast_server.url)
    mgr = ModelManager(client=client, watch_interval=None)
    mgr.refresh().result(10)
    client.before = lambda: mgr.snapshot("small").result(10)
    mgr.update_model("small", description="edited").result(10)
    assert client.before is None  # the read did come back while the write was on its way
    shown = next(m for m in mgr.models if m["id"] == "small")
    assert shown.get("description") == "edited"
    mgr.close()


def test_an_actions_result_is_in_the_traits_when_its_future_resolves(
    fast_server: ServerProcess,
) -> None:
    mgr = ModelManager(base_url=fast_server.url, watch_interval=None)
    mgr.ensure(["small"], timeout=30)
    mgr._state._coalescer._interval = 3600.0  # the next timed flush would come in an hour
    mgr.refresh().result(10)  # a flush now: the one after it must wait out the interval
    mgr.load("small").result(10)
    assert next(m for m in mgr.models if m["id"] == "small")["loaded"] is True
    mgr.close()


def test_summary_matches_psutil_and_the_files(fast_server: ServerProcess) -> None:
    mgr = ModelManager(base_url=fast_server.url, watch_interval=None)
    mgr.ensure(["small", "medium"], timeout=30)
    mgr.load("small").result(30)
    summary = mgr.summary()
    on_disk = sum(p.stat().st_size for p in weights(fast_server))
    assert summary.on_device == 2 and summary.on_device_bytes == on_disk == 28 * MiB
    assert summary.loaded == 1 and summary.loaded_ram == 4 * MiB
    assert summary.total_memory == psutil.virtual_memory().total
    assert abs(summary.available_memory - psutil.virtual_memory().available) < 512 * MiB
    free = shutil.disk_usage(fast_server.data_dir).free
    assert abs(summary.free_disk - free) < 256 * MiB
    text = str(summary)
    assert text.startswith("Disk: 2 models, 29.4 MB · ")
    assert " free · Memory: 1 model loaded, 4.2 MB of " in text
    mgr.close()


def test_add_download_remove_a_custom_model(
    fast_server: ServerProcess, tmp_path: Path, catalog_path: Path
) -> None:
    url = f"{fast_server.url}/hub/small-4194304.bin"  # a blob of the server's own hub
    mgr = ModelManager(base_url=fast_server.url, watch_interval=None)
    assert mgr._capabilities == {"sources": True}
    model = mgr.add_model("My GGUF", url).result(10)
    assert model.custom and model.name == "My GGUF" and not model.downloaded
    assert mgr.download(model.id).wait(30) == "COMPLETED"
    assert PiecesClient(fast_server.url).snapshot(model.id).downloaded

    fast_server.stop()  # created models persist across a restart
    with ServerProcess(fast_server.data_dir, catalog_path, port=fast_server.port) as again:
        client = PiecesClient(again.url)
        kept = client.snapshot(model.id)
        assert kept.name == "My GGUF" and kept.custom and kept.downloaded
        mgr.remove(model.id).result(10)
        with pytest.raises(ModelNotFoundError):
            client.snapshot(model.id)
        wait_for(  # the row goes (via the writer)
            lambda: all(m["id"] != model.id for m in mgr.models), 5, message="the row gone"
        )
        with pytest.raises(PiecesServerError, match="custom"):
            client.remove("medium")  # catalog models cannot be removed
    with pytest.raises(ValueError, match="http"):
        mgr.add_model("x", "file:///etc/passwd")
    mgr.close()


def test_old_names_warn_and_still_work(fast_server: ServerProcess) -> None:
    """One verb per operation: delete (weights), remove (a custom model); the old names warn
    for one release and do the same thing as the new ones."""
    client = PiecesClient(fast_server.url)
    with pytest.warns(DeprecationWarning, match=r"delete_weights\(\) is now delete\(\)"):
        assert client.delete_weights("small") == client.delete("small")
    warned = pytest.warns(DeprecationWarning, match=r"delete_model\(\) is now remove\(\)")
    with warned, pytest.raises(PiecesError) as old:
        client.delete_model("medium")  # a catalog model: refused, as remove() refuses it
    with pytest.raises(PiecesError) as new:
        client.remove("medium")
    assert str(old.value) == str(new.value)
    mgr = ModelManager(base_url=fast_server.url, watch_interval=None)
    with pytest.warns(DeprecationWarning, match=r"details\(\) is now snapshot\(\)"):
        assert mgr.details("small").result(10).id == "small"
    warned = pytest.warns(DeprecationWarning, match=r"remove_model\(\) is now remove\(\)")
    with warned, pytest.raises(PiecesError) as old:
        mgr.remove_model("medium").result(10)  # the manager's old names too
    assert str(old.value) == str(new.value)
    mgr.close()
    client.close()
