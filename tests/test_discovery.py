"""Discovery: PIECES_OS_URL, the port file, the port scan, nothing running, a dead cached port."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
from faultserver import FaultServer
from serverproc import ServerProcess

from pieces_widget import PiecesClient, PiecesConnectionError
from pieces_widget.core.discovery import SCAN_PORTS, discover, port_file_candidates


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PIECES_OS_URL", raising=False)
    monkeypatch.setenv("PIECES_OS_PORT_FILE", str(tmp_path / "no-such-port.txt"))


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def free_port_in_range() -> int:
    for port in SCAN_PORTS[::-1]:
        if _free(port):
            return port
    raise RuntimeError("every port of the scan range is taken")


def use_port_file(monkeypatch: pytest.MonkeyPatch, path: Path, port: int) -> None:
    path.write_text(f"{port}\n")
    monkeypatch.setenv("PIECES_OS_PORT_FILE", str(path))


def test_nothing_running_fails_fast_and_says_how_it_searched() -> None:
    began = time.monotonic()
    with pytest.raises(PiecesConnectionError) as info:
        discover()
    assert time.monotonic() - began < 1.0
    message = str(info.value)
    assert "39300-39333" in message and "PIECES_OS_URL" in message and "\n" not in message


def test_found_on_a_port_in_the_range(tmp_path: Path, catalog_path: Path) -> None:
    port = free_port_in_range()
    with ServerProcess(tmp_path / "d", catalog_path, port=port) as server:
        found = discover()
        assert found.base_url == server.url and found.how == "port scan" and found.ready
        assert PiecesClient().base_url == server.url


def test_env_url_wins(monkeypatch: pytest.MonkeyPatch, fault: FaultServer) -> None:
    monkeypatch.setenv("PIECES_OS_URL", fault.url + "/")
    assert discover().base_url == fault.url and discover().how == "PIECES_OS_URL"


def test_port_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fault: FaultServer) -> None:
    use_port_file(monkeypatch, tmp_path / ".port.txt", fault.port)
    found = discover()
    assert found.base_url == fault.url and found.how.startswith("port file")


def test_migrating_is_found_but_not_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fault: FaultServer
) -> None:
    fault.health = "migrating"
    use_port_file(monkeypatch, tmp_path / "p.txt", fault.port)
    assert discover().ready is False


def test_non_pieces_service_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fault: FaultServer
) -> None:
    fault.health = "<html>some other server</html>"
    use_port_file(monkeypatch, tmp_path / "p.txt", fault.port)
    with pytest.raises(PiecesConnectionError, match="did not answer"):
        discover()


def test_dead_cached_port_is_rediscovered_once(tmp_path: Path, catalog_path: Path) -> None:
    first_port = free_port_in_range()
    first = ServerProcess(tmp_path / "a", catalog_path, port=first_port).start()
    client = PiecesClient()
    assert client.base_url == first.url
    first.stop()
    second_port = next(p for p in SCAN_PORTS if p != first_port and _free(p))
    with ServerProcess(tmp_path / "b", catalog_path, port=second_port) as second:
        assert next(m.id for m in client.models()) == "small"
        assert client.base_url == second.url
    with pytest.raises(PiecesConnectionError, match="not reachable"):
        client.models()


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        (
            "win32",
            {"LOCALAPPDATA": "LAD"},
            "LAD/Mesh Intelligent Technologies, Inc/Pieces OS/"
            "com.pieces.os/production/Config/.port.txt",
        ),
        ("darwin", {}, "HOME/Library/com.pieces.os/production/Config/.port.txt"),
        ("linux", {"XDG_DATA_HOME": "XDG"}, "XDG/com.pieces.os/production/Config/.port.txt"),
    ],
)
def test_port_file_where_each_platform_writes_it(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fault: FaultServer,
    platform: str,
    env: dict[str, str],
    expected: str,
) -> None:
    """The port file is found where Pieces OS writes it on each OS (Windows: Pieces staff,
    January 2026), first among the candidates, and discovery uses its port."""
    home = tmp_path / "HOME"
    monkeypatch.delenv("PIECES_OS_PORT_FILE", raising=False)
    monkeypatch.delenv("PIECES_OS_URL", raising=False)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(Path, "home", lambda: home)
    for key in ("LOCALAPPDATA", "XDG_DATA_HOME"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, str(tmp_path / value))
    path = tmp_path / expected
    assert port_file_candidates()[0] == path
    path.parent.mkdir(parents=True)
    path.write_text(f"{fault.port}\n")
    found = discover()
    assert found.base_url == fault.url and found.how.startswith("port file")
