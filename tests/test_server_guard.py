"""Only this machine's own clients get in (issue 7, point 2): the Host check (DNS rebinding), the
Origin check (cross-site POSTs and WebSocket upgrades) and JSON-only bodies, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websocket
from conftest import DEMO_LIKE
from serverproc import ServerProcess, write_catalog
from wsframes import progress_url

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (each test leaves the models as it found them)."""
    tmp = tmp_path_factory.mktemp("guard")
    with ServerProcess(tmp / "data", write_catalog(tmp / "c.json", DEMO_LIKE)) as proc:
        yield proc


def downloading(url: str, model_id: str) -> bool:
    return requests.get(f"{url}/model/{model_id}", timeout=5).json()["downloading"]


def test_non_loopback_host_is_refused(server: ServerProcess) -> None:
    url = server.url
    for host in [f"evil.example:{server.port}", "evil.example", "192.168.1.5", "127.0.0.1.nip.io"]:
        read = requests.get(f"{url}/models", headers={"Host": host}, timeout=5)
        assert read.status_code == 403, host
        assert "--allow-host" in read.text and "iterable" not in read.text
        post = requests.post(f"{url}/model/small/download", headers={"Host": host}, timeout=5)
        assert post.status_code == 403
    assert not downloading(url, "small")
    for host in [f"127.0.0.1:{server.port}", f"localhost:{server.port}", "[::1]:80", "127.1.2.3"]:
        assert requests.get(f"{url}/models", headers={"Host": host}, timeout=5).ok, host


def test_cross_site_origin_is_refused_on_posts_and_websockets(server: ServerProcess) -> None:
    url = server.url
    for origin in [EVIL, "http://evil.example:39300", "null", "http://127.0.0.1.evil.example"]:
        started = requests.post(
            f"{url}/model/small/download", headers={"Origin": origin}, timeout=5
        )
        assert started.status_code == 403, origin
        assert "--allow-origin" in started.text
    edit = requests.post(
        f"{url}/model/update",
        data='{"id": "small", "name": "pwned"}',
        headers={"Origin": EVIL, "Content-Type": "text/plain"},
        timeout=5,
    )
    assert edit.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(progress_url(url, "small"), origin=EVIL, timeout=5)
    assert refused.value.status_code == 403
    model = requests.get(f"{url}/model/small", timeout=5).json()
    assert model["name"] == "Small Model" and model["downloading"] is False


def test_loopback_origin_and_no_origin_pass(server: ServerProcess) -> None:
    url = server.url
    for origin in ["http://127.0.0.1:8888", "http://localhost:8888", "http://[::1]:8888"]:
        answer = requests.get(f"{url}/model/small", headers={"Origin": origin}, timeout=5)
        assert answer.ok, origin
        assert answer.headers["Access-Control-Allow-Origin"] == origin
    ws = websocket.create_connection(
        progress_url(url, "small"), origin="http://localhost:8888", timeout=5
    )
    ws.close()
    started = requests.post(  # no Origin at all: scripts, SDKs, our client
        f"{url}/model/small/download", timeout=5
    )
    assert started.ok and started.json()["downloading"] is True
    requests.post(f"{url}/model/small/download/cancel", timeout=5)


def test_bodies_must_be_json(server: ServerProcess) -> None:
    url = server.url
    body = '{"id": "small", "name": "Sneaky"}'
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]:
        sent = requests.post(
            f"{url}/model/update", data=body, headers={"Content-Type": content_type}, timeout=5
        )
        assert sent.status_code == 415, content_type
        assert "application/json" in sent.text
    no_type = requests.post(f"{url}/models/create", data=b'{"name": "x"}', timeout=5)
    assert no_type.status_code == 415
    assert requests.get(f"{url}/model/small", timeout=5).json()["name"] == "Small Model"
    ok = requests.post(
        f"{url}/model/update",
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=5,
    )
    assert ok.ok and ok.json()["name"] == "Sneaky"
    requests.post(f"{url}/model/update", json={"id": "small", "name": "Small Model"}, timeout=5)


def test_allowed_hosts_and_origins(tmp_path: Path, catalog_path: Path) -> None:
    args = ["--allow-host", "models.lan", "--allow-host", "box.local"]
    args += ["--allow-origin", "https://app.example"]
    env = {"PIECES_SERVER_ALLOW_ORIGINS": "https://other.example, https://third.example:8443"}
    with ServerProcess(tmp_path / "data", catalog_path, extra_args=args, env=env) as server:
        url = server.url
        for host in ["models.lan:39300", "box.local", "MODELS.LAN"]:
            assert requests.get(f"{url}/models", headers={"Host": host}, timeout=5).ok, host
        assert (
            requests.get(f"{url}/models", headers={"Host": "x.lan"}, timeout=5).status_code == 403
        )
        for origin in [
            "https://app.example",
            "https://other.example",
            "https://third.example:8443",
        ]:
            answer = requests.get(f"{url}/model/small", headers={"Origin": origin}, timeout=5)
            assert answer.ok and answer.headers["Access-Control-Allow-Origin"] == origin
        preflight = requests.options(
            f"{url}/model/update",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=5,
        )
        assert preflight.status_code == 204
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
        denied = requests.get(f"{url}/models", headers={"Origin": EVIL}, timeout=5)
        assert denied.status_code == 403 and "Access-Control-Allow-Origin" not in denied.headers
