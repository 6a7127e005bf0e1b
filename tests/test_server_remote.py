"""Binding beyond loopback (issue 18, point 12): a non-loopback address is refused before any
socket exists unless ``--allow-remote``; then every request and WebSocket needs the token
(``X-Pieces-Server-Token``), which ``PiecesClient`` sends from ``PIECES_SERVER_TOKEN``.

Only loopback addresses are ever bound here: the refusal is shown with 192.0.2.1 (TEST-NET-1,
on no machine) and, without any socket, with the decision function; the token with
``--allow-remote`` on 127.0.0.1 (the flag, not the address, turns the token on)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import websocket
from serverproc import REPO, ServerProcess
from wsframes import progress_url, read_frames

from pieces_widget import PiecesClient
from pieces_widget.server.remote import bind_refusal, is_loopback_bind

TOKEN = "t0ken-for-the-tests-" + "x" * 20
HEADER = "X-Pieces-Server-Token"


def start(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pieces_widget.server", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_a_non_loopback_bind_is_refused_before_binding(tmp_path: Path) -> None:
    refused = start(tmp_path / "data", "--host", "192.0.2.1", "--port", "0")
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr == (
        "error: refusing to listen on 192.0.2.1: not a loopback address, so other machines could "
        "reach the server; to allow that, add --allow-remote (every request then needs the "
        "X-Pieces-Server-Token header)\n"
    )
    assert not (tmp_path / "data").exists(), "refused before anything was made"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("[fe80::1]", False),
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
    ],
)
def test_which_binds_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_bind(host) is loopback
    assert (bind_refusal(host, allow_remote=False) is None) is loopback
    assert bind_refusal(host, allow_remote=True) is None


def test_with_allow_remote_every_request_needs_the_token(
    tmp_path: Path, catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"PIECES_SERVER_TOKEN": TOKEN}
    with ServerProcess(
        tmp_path / "data", catalog_path, extra_args=["--allow-remote"], env=env
    ) as server:
        url = server.url
        routes = [("GET", "/.well-known/health"), ("GET", "/models"), ("GET", "/hub/x.bin")]
        for method, path in [*routes, ("POST", "/model/small/download")]:
            for headers in ({}, {HEADER: "wrong" + TOKEN}):
                answer = requests.request(method, url + path, headers=headers, timeout=5)
                assert answer.status_code == 403, (path, headers)
                assert answer.text.startswith("forbidden: this server takes requests from other")
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(progress_url(url, "small"), timeout=5)
        assert refused.value.status_code == 403
        ok = requests.get(f"{url}/models", headers={HEADER: TOKEN}, timeout=5)
        assert ok.ok and ok.json()["iterable"]
        # Any Host passes once a token is required: the token does the Host check's job.
        lan = requests.get(f"{url}/models", headers={HEADER: TOKEN, "Host": "box.lan"}, timeout=5)
        assert lan.ok
        # PiecesClient sends the token from the environment, on HTTP and on the progress
        # WebSocket; the server's own fetch from its hub carries it too.
        monkeypatch.setenv("PIECES_SERVER_TOKEN", TOKEN)
        client = PiecesClient(url)
        try:
            assert [m.id for m in client.models()][:2] == ["small", "medium"]
            ws = websocket.create_connection(
                progress_url(url, "small"), header=[f"{HEADER}: {TOKEN}"], timeout=5
            )
            client.download("small")
            frames, closed = read_frames(ws)
            assert closed and frames[-1][1]["status"] == "COMPLETED", frames[-3:]
            statuses = [p.status for p in client.watch_download("small", timeout=10)]
            assert statuses[-1] == "COMPLETED"
        finally:
            client.session.close()
    opened = server.log().count('"GET /model/small/download/progress HTTP/1.1" 101')
    assert opened == 2, "both sockets with the token: ours and the client's"


def test_the_token_is_made_once_kept_private_and_printed(
    tmp_path: Path, catalog_path: Path
) -> None:
    assert "PIECES_SERVER_TOKEN" not in os.environ
    server = ServerProcess(tmp_path / "data", catalog_path, extra_args=["--allow-remote"])
    with server:
        token_file = server.data_dir / "server-token"
        assert token_file.read_text().strip() == server.token and len(server.token) >= 32
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        first = server.token
        assert requests.get(f"{server.url}/models", headers={HEADER: first}, timeout=5).ok
    with server:
        assert server.token == first, "the same token after a restart"
    token_file.chmod(0o644)  # readable by others: no longer a secret, made again
    with server:
        assert server.token != first
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
