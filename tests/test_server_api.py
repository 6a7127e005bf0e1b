"""Every endpoint of the reference server and its status codes, over real HTTP."""

from __future__ import annotations

import time

import requests
from serverproc import MiB, ServerProcess
from waiting import wait_for

JSON = {"Content-Type": "application/json"}


def wait_downloaded(url: str, model_id: str, timeout: float = 30) -> dict:
    def finished() -> dict | None:
        model = requests.get(f"{url}/model/{model_id}", timeout=5).json()
        return model if model["downloaded"] and not model["downloading"] else None

    return wait_for(finished, timeout, message=f"{model_id} finished downloading")


def test_health_and_version(server: ServerProcess) -> None:
    health = requests.get(server.url + "/.well-known/health", timeout=5)
    assert health.status_code == 200 and health.text.startswith("ok:")
    assert len(health.text) == len("ok:") + 36  # ok:<uuid>
    version = requests.get(server.url + "/.well-known/version", timeout=5)
    assert version.status_code == 200 and version.text.count(".") == 2


def test_models_lists_catalog_without_sources(server: ServerProcess) -> None:
    body = requests.get(server.url + "/models", timeout=5).json()
    ids = [m["id"] for m in body["iterable"]]
    assert ids == ["small", "medium", "badsum", "cloudy"]
    for model in body["iterable"]:
        assert "source" not in model
        assert model["downloaded"] is False and model["downloading"] is False
        assert model["loaded"] is False
    medium = body["iterable"][1]
    assert medium["bytes"] == {"value": 24 * MiB, "readable": "25.2 MB"}
    assert "bytes" not in body["iterable"][3]  # cloud models have no weights here


def test_download_load_unload_cycle(server: ServerProcess) -> None:
    url = server.url
    started = requests.post(f"{url}/model/small/download", timeout=5)
    assert started.status_code == 200
    assert started.json()["downloading"] is True and started.json()["downloaded"] is False
    model = wait_downloaded(url, "small")
    assert model["bytes"]["value"] == 4 * MiB
    again = requests.post(f"{url}/model/small/download", timeout=5).json()
    assert again["downloaded"] is True and again["downloading"] is False  # no new transfer
    loaded = requests.post(f"{url}/model/small/load", timeout=30).json()
    assert loaded["loaded"] is True and loaded["ram"]["value"] == 4 * MiB
    assert requests.get(f"{url}/model/small", timeout=5).json()["loaded"] is True
    unloaded = requests.post(f"{url}/model/small/unload", timeout=5).json()
    assert unloaded["loaded"] is False
    # Unloading twice is harmless.
    assert requests.post(f"{url}/model/small/unload", timeout=5).status_code == 200


def test_cancel_with_nothing_in_flight_changes_nothing(server: ServerProcess) -> None:
    response = requests.post(f"{server.url}/model/medium/download/cancel", timeout=5)
    assert response.status_code == 200
    assert response.json()["downloading"] is False and response.json()["downloaded"] is False


def test_cancel_stops_a_download(server: ServerProcess) -> None:
    url = server.url
    requests.post(f"{url}/model/medium/download", timeout=5)
    wait_for(
        lambda: requests.get(f"{url}/model/medium", timeout=5).json().get("partialBytes"),
        message="bytes on disk",
    )
    began = time.monotonic()
    canceled = requests.post(f"{url}/model/medium/download/cancel", timeout=5)
    assert time.monotonic() - began < 0.5
    assert canceled.json()["downloading"] is False and canceled.json()["downloaded"] is False
    time.sleep(0.2)  # a sleep on purpose: the transfer stays stopped, not just said to be
    assert requests.get(f"{url}/model/medium", timeout=5).json()["downloading"] is False


def test_cloud_and_not_downloaded_models_are_refused(server: ServerProcess) -> None:
    url = server.url
    cloud = requests.post(f"{url}/model/cloudy/download", timeout=5)
    assert cloud.status_code == 500 and "cloud models are not downloaded" in cloud.text
    assert cloud.headers["Content-Type"].startswith("text/plain")
    load_cloud = requests.post(f"{url}/model/cloudy/load", timeout=5)
    assert load_cloud.status_code == 500 and "cloud" in load_cloud.text
    not_there = requests.post(f"{url}/model/medium/load", timeout=5)
    assert not_there.status_code == 500 and "not downloaded" in not_there.text


def test_unload_all_and_delete_cache(server: ServerProcess) -> None:
    url = server.url
    requests.post(f"{url}/model/small/download", timeout=5)
    wait_downloaded(url, "small")
    requests.post(f"{url}/model/small/load", timeout=30)
    assert requests.post(f"{url}/models/unload", timeout=5).status_code == 204
    assert requests.get(f"{url}/model/small", timeout=5).json()["loaded"] is False
    requests.post(f"{url}/model/small/load", timeout=30)
    deleted = requests.post(f"{url}/models/small/delete/cache", json={}, timeout=5)
    assert deleted.status_code == 200 and deleted.json()["model"]["id"] == "small"
    after = requests.get(f"{url}/model/small", timeout=5).json()
    assert after["downloaded"] is False and after["loaded"] is False
    assert not list((server.data_dir / "models").iterdir())


def test_update_custom_model_persists_across_restart(server: ServerProcess) -> None:
    url = server.url
    model = requests.get(f"{url}/model/small", timeout=5).json()
    model.update(name="Renamed", description="edited", downloaded=True, bytes={"value": 1})
    updated = requests.post(f"{url}/model/update", json=model, timeout=5)
    assert updated.status_code == 200
    body = updated.json()
    assert body["name"] == "Renamed" and body["description"] == "edited"
    assert body["downloaded"] is False and body["bytes"]["value"] == 4 * MiB  # read-only kept
    partial = requests.post(f"{url}/model/update", json={"id": "small", "version": "2"}, timeout=5)
    assert partial.json()["version"] == "2" and partial.json()["name"] == "Renamed"
    server.stop()
    server.start()
    again = requests.get(f"{server.url}/model/small", timeout=5).json()
    assert again["name"] == "Renamed" and again["version"] == "2"


def test_update_rules(server: ServerProcess) -> None:
    url = server.url
    not_custom = requests.post(f"{url}/model/update", json={"id": "medium", "name": "x"}, timeout=5)
    assert not_custom.status_code == 500 and "only custom models" in not_custom.text
    unknown = requests.post(f"{url}/model/update", json={"id": "nope", "name": "x"}, timeout=5)
    assert unknown.status_code == 410
    malformed = requests.post(f"{url}/model/update", data=b"{not json", headers=JSON, timeout=5)
    assert malformed.status_code == 400 and "malformed JSON" in malformed.text
    not_model = requests.post(f"{url}/model/update", json=[1, 2], timeout=5)
    assert not_model.status_code == 400
    wrong_type = requests.post(f"{url}/model/update", json={"id": "small", "name": 5}, timeout=5)
    assert wrong_type.status_code == 400 and "'name'" in wrong_type.text
    assert requests.get(f"{url}/model/small", timeout=5).json()["name"] == "Small Model"


def test_unknown_ids_are_410_on_every_route(server: ServerProcess) -> None:
    url = server.url
    for method, path in [
        ("GET", "/model/nope"),
        ("POST", "/model/nope/download"),
        ("POST", "/model/nope/download/cancel"),
        ("GET", "/model/nope/download/progress"),
        ("POST", "/model/nope/load"),
        ("POST", "/model/nope/unload"),
        ("POST", "/models/nope/delete/cache"),
    ]:
        response = requests.request(method, url + path, timeout=5)
        assert response.status_code == 410, (method, path, response.status_code)
        assert "not found" in response.text


def test_wrong_method_and_unknown_route(server: ServerProcess) -> None:
    assert requests.delete(f"{server.url}/model/small", timeout=5).status_code == 405
    assert requests.post(f"{server.url}/model/small/explode", timeout=5).status_code == 404
    progress = requests.get(f"{server.url}/model/small/download/progress", timeout=5)
    assert progress.status_code == 400 and "WebSocket" in progress.text
