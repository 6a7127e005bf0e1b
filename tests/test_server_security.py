"""Model ids are data: hostile ids are 410, nothing outside the data directory is touched, and
the server listens on 127.0.0.1 only and keeps running."""

from __future__ import annotations

import http.client
import os
import socket
from pathlib import Path
from urllib.parse import quote

import psutil
import requests
from serverproc import ServerProcess
from test_server_api import JSON, wait_downloaded

HOSTILE_IDS = [
    "../x",
    "../../../../etc/passwd",
    "%2e%2e%2f",
    "..%2F..%2Fstate.json",
    "a\x00b",
    "/etc/passwd",
    "模型-ü-🙂",
    "x" * 4000,
    "small/../small",
    " small",
    "",
]


def tree(root: Path) -> dict[str, float]:
    return {
        str(p): p.stat().st_mtime
        for p in root.rglob("*")
        if p.is_file() and "data" not in p.relative_to(root).parts[:1]
    }


def test_hostile_ids_are_410_everywhere(server: ServerProcess, tmp_path: Path) -> None:
    before = tree(tmp_path)
    for model_id in HOSTILE_IDS:
        quoted = quote(model_id, safe="")
        for method, path in [
            ("GET", f"/model/{quoted}"),
            ("POST", f"/model/{quoted}/download"),
            ("POST", f"/model/{quoted}/load"),
            ("POST", f"/models/{quoted}/delete/cache"),
        ]:
            response = requests.request(method, server.url + path, timeout=5)
            expected = {404, 410} if not model_id else {410}  # an empty id is no route at all
            assert response.status_code in expected, (model_id[:40], path[:60], response.text[:80])
        update = requests.post(f"{server.url}/model/update", json={"id": model_id}, timeout=5)
        assert update.status_code == 410
    after = tree(tmp_path)
    assert {k: v for k, v in after.items() if not k.endswith("-server.log")} == {
        k: v for k, v in before.items() if not k.endswith("-server.log")
    }
    assert requests.get(server.url + "/.well-known/health", timeout=5).ok


def test_raw_traversal_paths_never_reach_files(server: ServerProcess) -> None:
    for raw in [
        "/model/../../etc/passwd",
        "/model/%2e%2e/%2e%2e/etc/passwd",
        "/model/%2e%2e%2f%2e%2e%2fetc%2fpasswd/download",
        "/hub/../state.json",
        "/hub/%2e%2e%2fstate.json",
        "/hub/.sha256",
    ]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", raw)
        response = conn.getresponse()
        body = response.read()
        assert response.status in (404, 405, 410), (raw, response.status)
        assert b"root:" not in body and b"edits" not in body
        conn.close()
    assert requests.get(server.url + "/.well-known/health", timeout=5).ok


def test_files_are_named_from_a_hash_of_the_id(server: ServerProcess) -> None:
    requests.post(f"{server.url}/model/small/download", timeout=5)
    wait_downloaded(server.url, "small")
    (part_or_bin,) = list((server.data_dir / "models").iterdir())
    assert "small" not in part_or_bin.name and len(part_or_bin.stem) == 64


def test_binds_loopback_only(server: ServerProcess) -> None:
    assert server.proc is not None
    listening = [
        c.laddr
        for c in psutil.Process(server.proc.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    other_ips = [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]
    for ip in other_ips:
        sock = socket.socket()
        sock.settimeout(1)
        assert sock.connect_ex((ip, server.port)) != 0, f"reachable on {ip}"
        sock.close()


def test_malformed_and_oversized_bodies(server: ServerProcess) -> None:
    url = server.url
    bad_utf8 = requests.post(f"{url}/model/update", data=b"\xff\xfe", headers=JSON, timeout=5)
    assert bad_utf8.status_code == 400
    huge = requests.post(f"{url}/model/update", data=b"x" * (2 << 20), headers=JSON, timeout=5)
    assert huge.status_code == 413
    assert requests.get(url + "/.well-known/health", timeout=5).ok
    assert os.path.isdir(server.data_dir)
