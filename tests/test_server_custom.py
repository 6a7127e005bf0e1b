"""Custom models and disk (issue 9, server side): POST /models/create with a source, downloads
with resume and checks like the catalog's, persistence across a restart, POST /models/{id}/delete,
delete/cache during a download, partialBytes, and GET /.well-known/capabilities."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket
from faultserver import FaultServer
from pieces_os_client.models.model import Model as SdkModel
from serverproc import MiB, ServerProcess
from test_server_api import wait_downloaded
from test_server_schema import validate
from waiting import size_of, wait_for
from wsframes import progress_url, read_frames

import pieces_widget
from pieces_widget.server.custom import MAX_CUSTOM_MODELS

SMALL_BLOB = f"small-{4 * MiB}.bin"


def hub_url(server: ServerProcess, blob: str = SMALL_BLOB) -> str:
    return f"{server.url}/hub/{blob}"


def hub_sha256(server: ServerProcess, blob: str = SMALL_BLOB) -> str:
    return (server.data_dir / "hub" / f"{blob}.sha256").read_text().strip()


def create(server: ServerProcess, body: dict) -> requests.Response:
    return requests.post(f"{server.url}/models/create", json=body, timeout=10)


def part_file(server: ServerProcess, model_id: str):
    return server.data_dir / "models" / f"{hashlib.sha256(model_id.encode()).hexdigest()}.part"


def stored_source(server: ServerProcess, model_id: str) -> dict:
    return json.loads((server.data_dir / "state.json").read_text())["created"][model_id]["source"]


def test_create_download_and_persist(server: ServerProcess) -> None:
    answer = create(server, {"name": "My GGUF", "source": {"url": hub_url(server)}})
    assert answer.status_code == 200, answer.text
    model = answer.json()
    validate(model, "Model")
    SdkModel.from_dict(model)
    model_id = model["id"]
    assert model["custom"] is True and model["cloud"] is False and model["name"] == "My GGUF"
    assert model["bytes"]["value"] == 4 * MiB, "size learned from the source's Content-Length"
    assert model["downloaded"] is False and "source" not in model
    listed = requests.get(f"{server.url}/models", timeout=5).json()["iterable"]
    assert [m["id"] for m in listed][-1] == model_id
    # It downloads like a catalog model; with no sha256 given, the digest is recorded.
    requests.post(f"{server.url}/model/{model_id}/download", timeout=5)
    wait_downloaded(server.url, model_id)
    # The digest is saved off the event loop, just after the download reports downloaded.
    stored = wait_for(
        lambda: stored_source(server, model_id).get("sha256"), 10, message="the digest saved"
    )
    assert stored == hub_sha256(server)
    edited = requests.post(
        f"{server.url}/model/update", json={"id": model_id, "description": "mine"}, timeout=5
    )
    assert edited.ok and edited.json()["description"] == "mine"
    server.stop()
    server.start()
    again = requests.get(f"{server.url}/model/{model_id}", timeout=5).json()
    validate(again, "Model")
    assert again["name"] == "My GGUF" and again["description"] == "mine"
    assert again["downloaded"] is True and again["custom"] is True
    assert requests.post(f"{server.url}/model/{model_id}/load", timeout=30).json()["loaded"]


def test_created_model_resumes_and_checks_its_sha256(server: ServerProcess) -> None:
    body = {
        "name": "Checked",
        "source": {"url": hub_url(server, f"medium-{24 * MiB}.bin"), "bytes": 24 * MiB},
    }
    body["source"]["sha256"] = hub_sha256(server, f"medium-{24 * MiB}.bin")
    model_id = create(server, body).json()["id"]
    requests.post(f"{server.url}/model/{model_id}/download", timeout=5)
    wait_for(lambda: size_of(part_file(server, model_id)), message="bytes in the .part file")
    canceled = requests.post(f"{server.url}/model/{model_id}/download/cancel", timeout=5).json()
    part = part_file(server, model_id)
    assert canceled["partialBytes"] == part.stat().st_size > 0  # the widget's "Resume (NN %)"
    requests.post(f"{server.url}/model/{model_id}/download", timeout=5)
    done = wait_downloaded(server.url, model_id)
    assert "partialBytes" not in done and not part.exists()
    assert f"bytes={canceled['partialBytes']}-" in server.log()
    wrong = create(
        server,
        {"name": "Wrong sum", "source": {"url": hub_url(server), "sha256": "a" * 64}},
    ).json()["id"]
    ws = websocket.create_connection(progress_url(server.url, wrong), timeout=5)
    requests.post(f"{server.url}/model/{wrong}/download", timeout=5)
    frames, _ = read_frames(ws)
    assert frames[-1][1]["status"] == "FAILED" and "checksum mismatch" in frames[-1][1]["error"]


def test_create_refuses_bad_bodies_with_clear_text(server: ServerProcess) -> None:
    url = hub_url(server)
    assert create(server, {"name": "First", "source": {"url": url}}).ok
    cases = [
        ({"name": "first", "source": {"url": url}}, 500, "duplicate model: 'First' already"),
        ({"name": "Small Model", "cloud": True}, 500, "duplicate model: 'Small Model'"),
        ({"source": {"url": url}}, 400, "field 'name' is required"),
        ({"name": "x" * 300, "source": {"url": url}}, 400, "'name' is too long"),
        ({"name": "No source"}, 400, "a local model needs a 'source'"),
        ({"name": "Ftp", "source": {"url": "ftp://host/x.gguf"}}, 400, "must be an http(s) URL"),
        ({"name": "File", "source": {"url": "file:///etc/passwd"}}, 400, "http(s) URL"),
        ({"name": "B", "source": {"url": url, "bytes": "4"}}, 400, "'bytes' must be a positive"),
        ({"name": "S", "source": {"url": url, "sha256": "xyz"}}, 400, "64 hex digits"),
        ({"name": "K", "source": {"url": url, "path": "/x"}}, 400, "source has unknown keys"),
        ({"name": "C", "cloud": True, "source": {"url": url}}, 400, "a cloud model has no"),
        ({"name": "F", "foundation": "NOPE", "source": {"url": url}}, 400, "ModelFoundationEnum"),
        ({"name": "E", "extra": 1, "source": {"url": url}}, 400, "unknown field 'extra'"),
        ([1, 2], 400, "SeededModel"),
        (
            {"name": "Gone", "source": {"url": f"{server.url}/hub/missing.bin"}},
            500,
            "cannot add the model: the source answered 404",
        ),
    ]
    for body, status, message in cases:
        answer = create(server, body)  # type: ignore[arg-type]
        assert answer.status_code == status and message in answer.text, (body, answer.text)
    too_big = requests.post(
        f"{server.url}/models/create",
        data=json.dumps({"name": "Big", "description": "d" * 70_000}),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert too_big.status_code == 400 and "too large" in too_big.text
    plain = requests.post(
        f"{server.url}/models/create",
        data=json.dumps({"name": "Plain", "source": {"url": url}}),
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )
    assert plain.status_code == 415
    cross = requests.post(
        f"{server.url}/models/create",
        json={"name": "Cross", "source": {"url": url}},
        headers={"Origin": "https://evil.example"},
        timeout=5,
    )
    assert cross.status_code == 403
    names = [m["name"] for m in requests.get(f"{server.url}/models", timeout=5).json()["iterable"]]
    assert names.count("First") == 1 and "Cross" not in names and "Plain" not in names
    cloud = create(server, {"name": "My cloud", "cloud": True, "version": "2.0.0"}).json()
    assert cloud["cloud"] is True and cloud["custom"] is True and "bytes" not in cloud


def test_delete_custom_models_only(server: ServerProcess) -> None:
    made = create(server, {"name": "Doomed", "source": {"url": hub_url(server)}}).json()["id"]
    requests.post(f"{server.url}/model/{made}/download", timeout=5)
    wait_downloaded(server.url, made)
    requests.post(f"{server.url}/model/{made}/load", timeout=30)
    deleted = requests.post(f"{server.url}/models/{made}/delete", timeout=5)
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(f"{server.url}/model/{made}", timeout=5).status_code == 410
    assert list((server.data_dir / "models").iterdir()) == []
    refused = requests.post(f"{server.url}/models/medium/delete", timeout=5)
    assert refused.status_code == 500 and "not a custom model" in refused.text
    assert requests.post(f"{server.url}/models/nope/delete", timeout=5).status_code == 410
    # A custom model of the catalog can be deleted too, and stays deleted after a restart.
    assert requests.post(f"{server.url}/models/small/delete", timeout=5).status_code == 204
    server.stop()
    server.start()
    ids = [m["id"] for m in requests.get(f"{server.url}/models", timeout=5).json()["iterable"]]
    assert "small" not in ids and made not in ids and "medium" in ids


def test_delete_during_a_download_cancels_it_first(server: ServerProcess) -> None:
    blob = f"medium-{24 * MiB}.bin"
    made = create(server, {"name": "Busy", "source": {"url": hub_url(server, blob)}}).json()["id"]
    for model_id, path in [
        ("medium", "/models/medium/delete/cache"),
        (made, f"/models/{made}/delete"),
    ]:
        ws = websocket.create_connection(progress_url(server.url, model_id), timeout=5)
        requests.post(f"{server.url}/model/{model_id}/download", timeout=5)
        part = part_file(server, model_id)
        wait_for(lambda part=part: size_of(part), message="bytes in the .part")
        began = time.monotonic()
        answer = requests.post(server.url + path, timeout=5)
        assert answer.status_code in (200, 204) and time.monotonic() - began < 1
        frames, closed = read_frames(ws, timeout=5)
        assert closed and frames[-1][1]["status"] == "CANCELED"
        assert not part_file(server, model_id).exists()
    model = requests.get(f"{server.url}/model/medium", timeout=5).json()
    assert model["downloading"] is False and "partialBytes" not in model


def test_capabilities(server: ServerProcess) -> None:
    answer = requests.get(f"{server.url}/.well-known/capabilities", timeout=5)
    assert answer.ok
    body = answer.json()
    assert body["server"] == "pieces-widget-reference"
    assert body["version"] == pieces_widget.__version__ and body["sources"] is True
    usage = shutil.disk_usage(server.data_dir)
    assert body["disk"]["total"] == usage.total
    assert abs(body["disk"]["free"] - usage.free) < 64 * MiB
    assert set(body) == {"server", "version", "sources", "disk"}


def test_the_custom_model_cap_holds_under_concurrent_creates(
    tmp_path: Path, catalog_path: Path, fault: FaultServer
) -> None:
    """The cap is checked again after the (slow) size probe, like duplicates."""
    data = tmp_path / "data"
    data.mkdir()
    created = {"value": "2024-05-01T12:00:00+00:00"}
    near_full = {
        f"c{i}": {"model": {"name": f"Cloud {i}", "cloud": True, "created": created}}
        for i in range(MAX_CUSTOM_MODELS - 2)
    }
    (data / "state.json").write_text(json.dumps({"version": 1, "created": near_full}))
    fault.status_for["/blob"] = (200, "x" * 1000)
    fault.delay = 0.5  # every create waits in its probe at the same time
    with ServerProcess(data, catalog_path) as server:
        bodies = [{"name": f"Racer {i}", "source": {"url": f"{fault.url}/blob"}} for i in range(5)]
        with ThreadPoolExecutor(len(bodies)) as pool:
            answers = list(pool.map(lambda body: create(server, body), bodies))
        assert sorted(a.status_code for a in answers) == [200, 200, 500, 500, 500]
        refused = {a.text for a in answers if a.status_code == 500}
        assert refused == {f"too many custom models: at most {MAX_CUSTOM_MODELS}"}
        listed = requests.get(f"{server.url}/models", timeout=5).json()["iterable"]
        catalog_ids = {m["id"] for m in json.loads(catalog_path.read_text())}
        assert sum(m["id"] not in catalog_ids for m in listed) == MAX_CUSTOM_MODELS
