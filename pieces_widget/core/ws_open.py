"""Opening and shutting the client's two sockets (a model's download progress, the Ollama
status): the same handshake and the same way for another thread to end a read at once."""

from __future__ import annotations

import contextlib
from typing import Protocol

import websocket

from .transport import TOKEN_HEADER


class SocketClient(Protocol):
    """What opening a socket needs of a client (``PiecesClient`` is one)."""

    timeout: tuple[float, float]

    def ws_url(self, path: str) -> str: ...


def token_header(client: SocketClient) -> list[str]:
    """The reference server's token (``--allow-remote``), if the client sends one."""
    session = getattr(client, "session", None)
    token = session.headers.get(TOKEN_HEADER) if session is not None else None
    return [f"{TOKEN_HEADER}: {token}"] if token else []


def connect(ws: websocket.WebSocket, client: SocketClient, path: str) -> None:
    """Open ``ws`` on ``path``: the handshake is a request (the client's read timeout), sent
    with no Origin header and with the client's token."""
    ws.settimeout(client.timeout[1])
    ws.connect(client.ws_url(path), suppress_origin=True, header=token_header(client))


class Shuttable:
    """Holds the open socket (``_ws``) so that another thread can shut it."""

    _ws: websocket.WebSocket | None = None

    def shutdown(self) -> None:
        """Shut the open socket (from another thread): its reader returns at once."""
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):  # half-open or gone: it is going away anyway
                ws.shutdown()
