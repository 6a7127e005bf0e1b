"""Read progress frames from the reference server's WebSocket (websocket-client)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import websocket


def progress_url(base_url: str, model_id: str) -> str:
    return (
        base_url.replace("http", "ws", 1) + f"/model/{quote(model_id, safe='')}/download/progress"
    )


def read_frames(
    ws: websocket.WebSocket, timeout: float = 30
) -> tuple[list[tuple[float, dict[str, Any]]], bool]:
    """Frames with their arrival time until the server closes; (frames, closed_by_server)."""
    frames: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + timeout
    ws.settimeout(1)
    while time.monotonic() < deadline:
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            continue
        except websocket.WebSocketConnectionClosedException:
            return frames, True
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return frames, True
        frames.append((time.monotonic(), json.loads(data)))
    return frames, False
