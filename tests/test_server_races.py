"""Races and shutdown (issue 7, point 1): any interleaving of download, cancel, delete/cache and
unload, on one keep-alive connection or two, ends every transfer in a terminal status; SIGTERM
and Ctrl-C stop the server within 2 s in every state, the partial file kept for a resume."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websocket
from faultserver import FaultHub
from serverproc import MiB, ServerProcess, write_catalog
from test_server_transfers import part_bytes
from waiting import wait_for
from wsframes import progress_url, read_frames

TERMINAL = {"COMPLETED", "FAILED", "CANCELED"}


class RawConnection:
    """One keep-alive HTTP/1.1 connection on a plain socket: requests can be pipelined."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.buffer = b""

    def send(self, *paths: str) -> None:
        """POST each path, all in one write (pipelined)."""
        host = f"127.0.0.1:{self.port}"
        self.sock.sendall(
            b"".join(
                f"POST {p} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode()
                for p in paths
            )
        )

    def _fill(self) -> None:
        data = self.sock.recv(65536)  # socket.timeout here means the server is wedged
        if not data:
            raise ConnectionError("server closed the connection")
        self.buffer += data

    def response(self) -> int:
        """Read one response; its status."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        length = next(
            (
                int(v)
                for k, _, v in (h.partition(": ") for h in lines[1:])
                if k.lower() == "content-length"
            ),
            0,
        )
        while len(self.buffer) < length:
            self._fill()
        self.buffer = self.buffer[length:]
        return int(lines[0].split()[1])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def two_connections(server: ServerProcess) -> Iterator[tuple[RawConnection, RawConnection]]:
    a, b = RawConnection(server.port), RawConnection(server.port)
    yield a, b
    a.close()
    b.close()


def test_download_cancel_races_always_end_terminal(
    server: ServerProcess, two_connections: tuple[RawConnection, RawConnection]
) -> None:
    a, b = two_connections
    dl, cancel = "/model/medium/download", "/model/medium/download/cancel"
    rivals = [cancel, "/models/medium/delete/cache", "/model/medium/unload", cancel]
    for attempt in range(50):
        rival = rivals[attempt % len(rivals)]
        if attempt % 3 == 0:  # both on one connection, pipelined in one write
            a.send(dl, rival)
            statuses = [a.response(), a.response()]
        elif attempt % 3 == 1:  # one on each connection, sent before either is read
            a.send(dl)
            b.send(rival)
            statuses = [a.response(), b.response()]
        else:  # the rival first
            b.send(rival)
            a.send(dl)
            statuses = [b.response(), a.response()]
        assert statuses == [200, 200], (attempt, rival, statuses)
        # Whatever happened, the model still works: a download in flight can be canceled and
        # its progress socket ends with a terminal frame.
        a.send(dl)
        assert a.response() == 200
        ws = websocket.create_connection(progress_url(server.url, "medium"), timeout=3)
        b.send(cancel)
        assert b.response() == 200, attempt
        frames, closed = read_frames(ws, timeout=3)
        ws.close()
        assert closed and frames and frames[-1][1]["status"] in TERMINAL, (attempt, frames)
        model = requests.get(f"{server.url}/model/medium", timeout=3).json()
        assert model["downloading"] is False, attempt
    assert requests.get(f"{server.url}/.well-known/health", timeout=3).ok
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 2, "SIGTERM after the races"


def _stop_time(server: ServerProcess, sig: int = signal.SIGTERM) -> float:
    assert server.proc is not None
    began = time.monotonic()
    server.proc.send_signal(sig)
    server.proc.wait(10)
    return time.monotonic() - began


def test_sigterm_when_idle(server: ServerProcess) -> None:
    ws = websocket.create_connection(progress_url(server.url, "small"), timeout=3)  # idle socket
    assert _stop_time(server) < 2
    ws.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_download_keeps_the_part(server: ServerProcess, sig: int) -> None:
    watcher = websocket.create_connection(progress_url(server.url, "medium"), timeout=3)
    idle = websocket.create_connection(progress_url(server.url, "small"), timeout=3)
    requests.post(f"{server.url}/model/medium/download", timeout=3)
    watcher.settimeout(3)
    while '"IN-PROGRESS"' not in watcher.recv():
        pass
    wait_for(lambda: part_bytes(server), message="bytes on disk")
    assert _stop_time(server, sig) < 2
    (part,) = (server.data_dir / "models").glob("*.part")
    size = part.stat().st_size
    assert 0 < size < 24 * MiB
    for ws in (watcher, idle):
        ws.close()
    server.start()
    model = requests.get(f"{server.url}/model/medium", timeout=3).json()
    assert model["partialBytes"] == size and model["downloaded"] is False


def test_sigterm_while_the_source_stalls(tmp_path: Path) -> None:
    hub = FaultHub(2 * MiB)
    hub.default = ("stall", 1000)
    catalog = write_catalog(tmp_path / "c.json", [{"id": "m", "source": hub.source()}])
    try:
        with ServerProcess(tmp_path / "data", catalog) as server:
            requests.post(f"{server.url}/model/m/download", timeout=3)
            # the source sent its 1000 bytes and went silent
            wait_for(lambda: part_bytes(server) >= 1000, 5, message="the bytes before the stall")
            assert _stop_time(server) < 2
    finally:
        hub.close()
