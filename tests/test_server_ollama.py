"""The Ollama API of Pieces OS 11+ on the reference server, over real HTTP and WebSockets:
installed by default; with ``--without-ollama`` local models are blocked until an install (a
real transfer from the server's hub) has run; cancel, failure, restart, update required; an
update (and its cancel) and an uninstall, driven by the official SDK too. Every
body validates against the spec's ``OllamaStatus`` / ``OllamaDeployment(s)`` and parses with
the official SDK."""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
import websocket
from pieces_os_client.api.ollama_api import OllamaApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.models.ollama_deployment import OllamaDeployment
from pieces_os_client.models.ollama_deployments import OllamaDeployments
from pieces_os_client.models.ollama_status import OllamaStatus
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from serverproc import MiB, ServerProcess, local_model, server_starter
from test_server_api import wait_downloaded
from test_server_fuzz import full_spec
from test_server_schema import validate
from waiting import wait_for

CATALOG = [local_model("m", 2 * MiB), {"id": "cloudy", "name": "Cloud", "cloud": True}]
RUNTIME = "ollama-runtime-0.6.2.bin"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start (or restart, same data dir) a server with the given options."""
    yield from server_starter(tmp_path, CATALOG, hub_rate=16 * MiB)


def status(server: ServerProcess) -> dict[str, Any]:
    body = requests.get(f"{server.url}/ollama/status", timeout=5).json()
    validate(body, "OllamaStatus")
    OllamaStatus.from_dict(body)
    return body


def deployment(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    validate(body, "OllamaDeployment")
    OllamaDeployment.from_dict(body)
    return body


def install(server: ServerProcess) -> dict[str, Any]:
    return deployment(requests.post(f"{server.url}/ollama/install", timeout=5))


def stream_url(server: ServerProcess) -> str:
    return server.url.replace("http", "ws", 1) + "/ollama/status/stream"


def read_until(
    ws: websocket.WebSocket, done: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> list[tuple[float, dict[str, Any]]]:
    frames: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + timeout
    ws.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            frames.append((time.monotonic(), json.loads(ws.recv())))
        except websocket.WebSocketTimeoutException:
            continue
        validate(frames[-1][1], "OllamaStatus")
        if done(frames[-1][1]):
            return frames
    raise AssertionError(f"no such status within {timeout} s: {frames[-3:]}")


def test_installed_by_default(start: Callable[..., ServerProcess]) -> None:
    server = start()
    body = status(server)
    assert set(body) == {"installation"}
    assert body["installation"]["version"] == "0.6.2"
    assert body["installation"]["status"] == "COMPLETED"
    installs = requests.get(f"{server.url}/ollama/installs", timeout=5).json()
    validate(installs, "OllamaDeployments")
    assert installs == {"iterable": []}
    assert install(server) == body["installation"], "nothing to install"
    assert requests.post(f"{server.url}/model/m/download", timeout=5).status_code == 200


def test_without_ollama_install_unblocks_local_models_and_survives_a_restart(
    start: Callable[..., ServerProcess],
) -> None:
    server = start("--without-ollama", hub_rate=8 * MiB)
    url = server.url
    assert status(server) == {}
    for action in ("download", "load"):
        refused = requests.post(f"{url}/model/m/{action}", timeout=5)
        assert refused.status_code == 500 and "Ollama is not installed" in refused.text
    cloud = requests.post(f"{url}/model/cloudy/download", timeout=5)
    assert "cloud models are not downloaded" in cloud.text, "cloud models are unaffected"
    ws = websocket.create_connection(stream_url(server), timeout=5)
    assert read_until(ws, lambda s: True)[0][1] == {}, "the status on connect"
    started = install(server)
    assert started["status"] == "INITIALIZED" and started["percentage"] == 0
    assert install(server)["id"] == started["id"], "a second POST joins the install"
    frames = read_until(ws, lambda s: "installation" in s)
    running = [s["installing"] for _, s in frames if "installing" in s]
    percents = [d["percentage"] for d in running]
    assert {d["id"] for d in running} == {started["id"]}
    assert any(d["status"] == "IN-PROGRESS" and 0 < d["percentage"] < 100 for d in running)
    assert percents == sorted(percents) and all(0 <= p <= 100 for p in percents)
    assert len(frames) <= 10 * (frames[-1][0] - frames[0][0]) + 3, "at most ~10 a second"
    final = frames[-1][1]
    assert "installing" not in final and final["installation"]["id"] == started["id"]
    assert final["installation"]["status"] == "COMPLETED"
    done = deployment(requests.get(f"{url}/ollama/install/{started['id']}", timeout=5))
    assert done["status"] == "COMPLETED" and done["percentage"] == 100
    installs = requests.get(f"{url}/ollama/installs", timeout=5).json()
    validate(installs, "OllamaDeployments")
    assert [d.id for d in OllamaDeployments.from_dict(installs).iterable] == [started["id"]]
    runtime = server.data_dir / "ollama" / "runtime.bin"
    assert runtime.read_bytes() == (server.data_dir / "hub" / RUNTIME).read_bytes()
    assert f"GET /hub/{RUNTIME}" in server.log(), "a real transfer from the hub"
    assert requests.post(f"{url}/model/m/download", timeout=5).status_code == 200
    wait_downloaded(url, "m")
    ws.close()
    server.stop()
    server = start("--without-ollama")
    assert status(server)["installation"]["id"] == started["id"], "still installed"
    assert requests.post(f"{server.url}/model/m/load", timeout=5).json()["loaded"] is True


def test_cancel_an_install(start: Callable[..., ServerProcess]) -> None:
    server = start("--without-ollama", hub_rate=2 * MiB)
    started = install(server)
    wait_for(
        lambda: (status(server).get("installing") or {}).get("percentage", 0) > 0,
        message="the install moving",
    )
    sent = time.monotonic()
    canceled = deployment(
        requests.post(f"{server.url}/ollama/install/{started['id']}/cancel", timeout=5)
    )
    assert time.monotonic() - sent < 0.5
    assert canceled["status"] == "CANCELED" and 0 < canceled["percentage"] < 100
    assert status(server) == {}, "not installing, not installed"
    snapshot = deployment(requests.get(f"{server.url}/ollama/install/{started['id']}", timeout=5))
    assert snapshot["status"] == "CANCELED"
    assert not (server.data_dir / "ollama" / "runtime.bin").exists()
    assert requests.post(f"{server.url}/model/m/download", timeout=5).status_code == 500
    again = install(server)
    assert again["id"] != started["id"] and again["status"] == "INITIALIZED"
    requests.post(f"{server.url}/ollama/install/{again['id']}/cancel", timeout=5)


def test_a_failed_install_says_why(start: Callable[..., ServerProcess], tmp_path: Path) -> None:
    folder = tmp_path / "data" / "ollama"
    folder.mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere", folder / "runtime.part")  # the disk refuses the file
    server = start("--without-ollama")
    started = install(server)

    def failed_answer() -> requests.Response | None:
        found = requests.get(f"{server.url}/ollama/install/{started['id']}", timeout=5)
        return found if found.json()["status"] == "FAILED" else None

    failed = deployment(wait_for(failed_answer, 10, message="the install FAILED"))
    assert "symlink" in failed["error"] and failed["error"].startswith("cannot install Ollama")
    assert status(server) == {}
    assert not (tmp_path / "elsewhere").exists()


def test_update_required_unknown_ids_and_the_origin_guard(
    start: Callable[..., ServerProcess],
) -> None:
    server = start("--ollama-update-required", "0.7.0")
    body = status(server)
    assert body["installation"]["version"] == "0.6.2"
    assert body["updateRequired"] == {"version": "0.7.0", "userManaged": False}
    for method, path in (("get", "/ollama/install/nope"), ("post", "/ollama/install/nope/cancel")):
        gone = requests.request(method, server.url + path, timeout=5)
        assert gone.status_code == 410 and "nope" in gone.text
    with pytest.raises(websocket.WebSocketBadStatusException, match="403"):
        websocket.create_connection(stream_url(server), timeout=5, origin="https://evil.example")
    ws = websocket.create_connection(stream_url(server), timeout=5, origin="http://127.0.0.1:1")
    assert json.loads(ws.recv()) == body
    ws.close()


def wait_status(server: ServerProcess, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    return wait_for(lambda: (lambda s: s if done(s) else None)(status(server)), 20)


def test_an_update_clears_update_required_through_the_official_sdk(
    start: Callable[..., ServerProcess],
) -> None:
    """POST /ollama/update runs a real transfer of the newer runtime; when it ends the
    installation is that version, updateRequired is gone, and a restart keeps it."""
    server = start("--ollama-update-required", "0.7.0")
    api = OllamaApi(ApiClient(Configuration(host=server.url)))
    assert status(server)["updateRequired"]["version"] == "0.7.0"
    wrong = requests.post(f"{server.url}/ollama/update", json={"version": "9.9"}, timeout=5)
    assert wrong.status_code == 500 and "the version available is 0.7.0" in wrong.text
    started = api.ollama_update(ollama_deployment=OllamaDeployment(version="0.7.0"))
    assert started.version == "0.7.0" and started.status.value == "INITIALIZED"
    assert "updating" in status(server) or "updateRequired" not in status(server)
    final = wait_status(server, lambda s: "updating" not in s)
    assert final == {"installation": final["installation"]}, "no updateRequired any more"
    assert final["installation"] == {"id": started.id, "version": "0.7.0", "status": "COMPLETED"}
    done = deployment(requests.get(f"{server.url}/ollama/update/{started.id}", timeout=5))
    assert done["status"] == "COMPLETED" and done["percentage"] == 100
    assert api.ollama_update_snapshot(started.id).status.value == "COMPLETED"
    updates = requests.get(f"{server.url}/ollama/updates", timeout=5).json()
    validate(updates, "OllamaDeployments")
    assert [d.id for d in api.ollama_updates_snapshot().iterable] == [started.id]
    assert requests.get(f"{server.url}/ollama/installs", timeout=5).json() == {"iterable": []}
    again = deployment(requests.post(f"{server.url}/ollama/update", timeout=5))
    assert again == final["installation"], "nothing left to update"
    assert "GET /hub/ollama-runtime-0.7.0.bin" in server.log(), "a real transfer from the hub"
    server.stop()
    server = start("--ollama-update-required", "0.7.0")
    assert status(server) == final, "the update survives a restart"


def test_cancel_an_update_keeps_the_old_runtime(start: Callable[..., ServerProcess]) -> None:
    server = start("--ollama-update-required", "0.7.0", hub_rate=2 * MiB)
    before = status(server)
    started = deployment(requests.post(f"{server.url}/ollama/update", timeout=5))
    moving = wait_status(server, lambda s: (s.get("updating") or {}).get("percentage", 0) > 0)
    assert moving["updating"]["id"] == started["id"]
    assert moving["installation"]["version"] == "0.6.2", "the old runtime until the new is whole"
    refused = requests.post(f"{server.url}/ollama/uninstall", timeout=5)
    assert refused.status_code == 500 and "being updated" in refused.text
    canceled = deployment(
        requests.post(f"{server.url}/ollama/update/{started['id']}/cancel", timeout=5)
    )
    assert canceled["status"] == "CANCELED" and 0 < canceled["percentage"] < 100
    assert status(server) == before, "still 0.6.2, still needing the update"
    snapshot = deployment(requests.get(f"{server.url}/ollama/update/{started['id']}", timeout=5))
    assert snapshot["status"] == "CANCELED"
    for method, path in (("get", "/ollama/update/nope"), ("post", "/ollama/update/nope/cancel")):
        gone = requests.request(method, server.url + path, timeout=5)
        assert gone.status_code == 410 and "update 'nope'" in gone.text
    gone = requests.get(f"{server.url}/ollama/install/{started['id']}", timeout=5)
    assert gone.status_code == 410, "an update's id is not an install's"
    assert requests.post(f"{server.url}/model/m/download", timeout=5).status_code == 200


def test_uninstall_blocks_local_models_until_an_install(
    start: Callable[..., ServerProcess],
) -> None:
    server = start()
    url = server.url
    installation = status(server)["installation"]
    assert requests.post(f"{url}/model/m/download", timeout=5).status_code == 200
    wait_downloaded(url, "m")
    assert requests.post(f"{url}/model/m/load", timeout=5).json()["loaded"] is True
    for path in ("/ollama/uninstall", "/ollama/update"):
        forged = requests.post(url + path, headers={"Origin": "https://evil.example"}, timeout=5)
        assert forged.status_code == 403, "the origin guard covers the new routes"
    assert status(server)["installation"] == installation
    wrong = requests.post(f"{url}/ollama/uninstall", json={"id": "other"}, timeout=5)
    assert wrong.status_code == 410 and "'other'" in wrong.text
    bad = requests.post(f"{url}/ollama/uninstall", json=[1], timeout=5)
    assert bad.status_code == 400
    api = OllamaApi(ApiClient(Configuration(host=url)))
    removed = api.ollama_uninstall(ollama_deployment=OllamaDeployment.from_dict(installation))
    assert removed.id == installation["id"]
    assert status(server) == {}, "not installed"
    assert requests.get(f"{url}/model/m", timeout=5).json()["loaded"] is False
    for action in ("download", "load"):
        refused = requests.post(f"{url}/model/m/{action}", timeout=5)
        assert refused.status_code == 500 and "Ollama is not installed" in refused.text
    twice = requests.post(f"{url}/ollama/uninstall", timeout=5)
    assert twice.status_code == 500 and "nothing to uninstall" in twice.text
    nothing = requests.post(f"{url}/ollama/update", timeout=5)
    assert nothing.status_code == 500 and "not installed" in nothing.text
    server.stop()
    server = start()
    assert status(server) == {}, "the uninstall survives a restart"
    started = install(server)
    final = wait_status(server, lambda s: "installation" in s)
    assert final["installation"]["id"] == started["id"]
    assert requests.post(f"{server.url}/model/m/load", timeout=30).json()["loaded"] is True


OLLAMA_ROUTES = {  # the status WebSocket is tested above
    "/ollama/status": ["get"],
    "/ollama/install": ["post"],
    "/ollama/install/{identifier}": ["get"],
    "/ollama/install/{identifier}/cancel": ["post"],
    "/ollama/installs": ["get"],
    "/ollama/update": ["post"],
    "/ollama/update/{identifier}": ["get"],
    "/ollama/update/{identifier}/cancel": ["post"],
    "/ollama/updates": ["get"],
    "/ollama/uninstall": ["post"],
}


def test_ollama_routes_against_the_spec(start: Callable[..., ServerProcess]) -> None:
    """A bounded schemathesis run of every Ollama route (bodies and ids from the spec's
    schemas): no undocumented 5xx, every documented answer valid, every error one line."""
    server = start("--ollama-update-required", "0.7.0", hub_rate=0)
    spec = copy.deepcopy(full_spec())
    spec["paths"] = {
        path: {m: op for m, op in spec["paths"][path].items() if m in methods}
        for path, methods in OLLAMA_ROUTES.items()
    }
    operations = [r.ok() for r in schemathesis.openapi.from_dict(spec).get_all_operations()]
    assert sorted({op.path for op in operations}) == sorted(OLLAMA_ROUTES)
    session = requests.Session()
    statuses: dict[str, set[int]] = {}
    for operation in operations:

        @hypothesis.settings(
            max_examples=10,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(base_url=server.url, session=session, timeout=30)
            statuses.setdefault(case.path, set()).add(response.status_code)
            documented = set(case.operation.definition.raw["responses"])
            assert response.status_code < 500 or str(response.status_code) in documented
            if response.status_code >= 400:
                (kind,) = response.headers["content-type"]
                assert kind.startswith("text/plain") and "\n" not in response.text.strip()
            else:
                case.validate_response(
                    response, checks=[response_schema_conformance, content_type_conformance]
                )

        # an install or update that an earlier operation started ends first (it takes longer on
        # a loaded machine): the next operation's own answers are what is checked
        wait_for(
            lambda: (
                not {"installing", "updating"}
                & set(session.get(f"{server.url}/ollama/status", timeout=10).json())
            ),
            30,
            message="no Ollama install or update running",
        )
        check()
    session.close()
    assert "Traceback" not in server.log()
    # the routes whose success needs no particular body answered 2xx here too; update and
    # uninstall succeed only with a body the generator may or may not make (no body, or the
    # offered version): their success is the update and uninstall tests' above
    body_free = [path for path in OLLAMA_ROUTES if "{identifier}" not in path]
    body_free = [path for path in body_free if path not in ("/ollama/update", "/ollama/uninstall")]
    never = [path for path in body_free if not any(s < 300 for s in statuses[path])]
    assert not never, f"never answered 2xx: {never}; all: {statuses}"
