"""Find a running Pieces OS: ``PIECES_OS_URL``, ``.port.txt``, a parallel port scan, legacy ports.

The scan is one non-blocking pass over every candidate port at once (connect, send a health
request, read the answer), so with nothing running it ends as soon as every port refuses.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import PiecesConnectionError

HOST = "127.0.0.1"
SCAN_PORTS = tuple(range(39300, 39334))
LEGACY_PORTS = (1000, 5323)
ENV_URL = "PIECES_OS_URL"
ENV_PORT_FILE = "PIECES_OS_PORT_FILE"


@dataclass(frozen=True)
class Found:
    base_url: str
    how: str  # "PIECES_OS_URL", "port file <path>", "port scan", "legacy port"
    ready: bool = True  # False while Pieces OS reports "migrating"


def port_file_candidates() -> list[Path]:
    """Where Pieces OS writes ``.port.txt``, per OS (best effort; ``PIECES_OS_PORT_FILE`` wins)."""
    if os.environ.get(ENV_PORT_FILE):
        return [Path(os.environ[ENV_PORT_FILE])]
    home = Path.home()
    tail = Path("com.pieces.os") / "production" / "Config" / ".port.txt"
    if sys.platform == "darwin":
        bases = [home / "Library", home / "Library" / "Application Support"]
    elif sys.platform == "win32":
        # Pieces staff, January 2026 (support#993): under "...\\Pieces OS\\"; older builds wrote
        # one folder higher, or straight under LOCALAPPDATA.
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        mesh = local / "Mesh Intelligent Technologies, Inc"
        bases = [mesh / "Pieces OS", mesh, local, home / "Documents"]
    else:
        data = Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share"))
        bases = [data, home / "Documents"]
    return [base / tail for base in bases]


def _port_from_files() -> tuple[int, Path] | None:
    for path in port_file_candidates():
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < 65536:
            return int(text), path
    return None


def _health_request(port: int) -> bytes:
    return (
        f"GET /.well-known/health HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Connection: close\r\nUser-Agent: pieces-widget\r\n\r\n"
    ).encode()


def _health_state(response: bytes) -> bool | None:
    """True for ``ok...``, False for ``migrating``, None for anything else."""
    head, _, body = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or head.split(b" ", 2)[1:2] != [b"200"]:
        return None
    body = body.strip().lower()
    if body.startswith(b"ok"):
        return True
    if body.startswith(b"migrating"):
        return False
    return None


def probe_ports(
    ports: tuple[int, ...], timeout: float, stop_on: tuple[int, ...] = ()
) -> dict[int, bool]:
    """Health-check every port at once; {port: ready} for those that answered like Pieces OS.

    Returns as soon as one port of ``stop_on`` answers ready (first answer wins).
    """
    selector = selectors.DefaultSelector()
    buffers: dict[int, bytearray] = {}
    pending: dict[socket.socket, int] = {}
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex((HOST, port))
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
            sock.close()
            continue
        selector.register(sock, selectors.EVENT_WRITE)
        pending[sock] = port
        buffers[port] = bytearray()
    found: dict[int, bool] = {}
    deadline = time.monotonic() + timeout
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, events in selector.select(left):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                port = pending[sock]
                try:
                    if events & selectors.EVENT_WRITE:
                        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            raise OSError("refused")
                        sock.sendall(_health_request(port))
                        selector.modify(sock, selectors.EVENT_READ)
                        continue
                    data = sock.recv(4096)
                    buffers[port] += data
                    if data and len(buffers[port]) < 16384:
                        continue
                except OSError:
                    pass
                selector.unregister(sock)
                sock.close()
                del pending[sock]
                state = _health_state(bytes(buffers[port]))
                if state is not None:
                    found[port] = state
            if any(found.get(port) for port in stop_on):
                break
    finally:
        for sock in pending:
            selector.unregister(sock)
            sock.close()
        selector.close()
    return found


def discover(timeout: float = 0.4) -> Found:
    """Where Pieces OS is, or ``PiecesConnectionError`` saying how it was searched."""
    env_url = os.environ.get(ENV_URL, "").strip()
    if env_url:
        return Found(env_url.rstrip("/"), ENV_URL)
    from_file = _port_from_files()
    searched = [f"{ENV_URL} unset"]
    if from_file is not None:
        port, path = from_file
        state = probe_ports((port,), timeout).get(port)
        if state is not None:
            return Found(f"http://{HOST}:{port}", f"port file {path}", ready=state)
        searched.append(f"port {port} from {path} did not answer")
    else:
        searched.append("no .port.txt found")
    found = probe_ports(SCAN_PORTS + LEGACY_PORTS, timeout, stop_on=SCAN_PORTS)
    for ports, how in ((SCAN_PORTS, "port scan"), (LEGACY_PORTS, "legacy port")):
        for port in ports:
            if port in found:
                return Found(f"http://{HOST}:{port}", how, ready=found[port])
    searched.append(f"ports {SCAN_PORTS[0]}-{SCAN_PORTS[-1]} and {LEGACY_PORTS} on {HOST} closed")
    raise PiecesConnectionError(
        "Pieces OS is not running or not reachable (searched: "
        + "; ".join(searched)
        + "): start Pieces OS, or set PIECES_OS_URL"
    )
