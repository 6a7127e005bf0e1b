"""A websocket-client socket that refuses a message over a size cap before reading its payload.

websocket-client has no size limit: it would read any length into memory. Its frame reader and
reassembly are replaced here; ``more_waiting`` tells a reader whether a newer frame is there.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import NoReturn

import websocket
from websocket._abnf import continuous_frame, frame_buffer

MAX_FRAME_BYTES = 64 * 1024  # a frame is a status and a number: anything longer is not one


class FrameTooLarge(websocket.WebSocketPayloadException):
    """A progress message over ``MAX_FRAME_BYTES``, refused before its payload was read."""

    def __init__(self, size: int) -> None:
        super().__init__(f"a progress message of {size} bytes")
        self.size = size


class CappedFrames(frame_buffer):
    """websocket-client's frame reader, refusing a frame whose header announces more than
    ``cap`` bytes before any of its payload is read. Once it has refused one, every later read
    fails too (the stream is out of step), so even a closing handshake reads nothing more.

    It reads what the socket has (up to ``READ_AHEAD`` bytes) rather than exactly what the next
    field needs, so frames that came together cost one read, not two per frame. (UTF-8 is not
    validated here: ``loads`` decodes, replacing what is not UTF-8.)"""

    READ_AHEAD = 4096

    def __init__(self, recv: Callable[[int], bytes], cap: int) -> None:
        super().__init__(recv, skip_utf8_validation=True)
        self.cap = cap
        self.refused: int | None = None  # the size of the message refused

    @property
    def buffered(self) -> bool:
        """True when bytes already read wait here (a frame ``select`` cannot see)."""
        return any(self.recv_buffer)

    def recv_strict(self, bufsize: int) -> bytes:
        shortage = bufsize - sum(len(b) for b in self.recv_buffer)
        while shortage > 0:
            chunk = self.recv(max(shortage, self.READ_AHEAD))
            if not isinstance(chunk, bytes):
                break
            self.recv_buffer.append(chunk)
            shortage -= len(chunk)
        unified = b"".join(self.recv_buffer)
        self.recv_buffer = [unified[bufsize:]] if len(unified) > bufsize else []
        return unified[:bufsize]

    def refuse(self, size: int) -> NoReturn:
        self.refused = size
        raise FrameTooLarge(size)

    def recv_frame(self) -> websocket.ABNF:
        if self.refused is not None:
            raise FrameTooLarge(self.refused)
        return super().recv_frame()

    def recv_length(self) -> None:
        super().recv_length()
        if self.length is not None and self.length > self.cap:
            self.refuse(self.length)


class CappedMessages(continuous_frame):
    """websocket-client's reassembly of fragmented messages, with the same cap on the whole."""

    def __init__(self, frames: CappedFrames) -> None:
        super().__init__(fire_cont_frame=False, skip_utf8_validation=True)
        self.frames = frames

    def add(self, frame: websocket.ABNF) -> None:
        super().add(frame)
        size = len(self.cont_data[1]) if self.cont_data else 0
        if size > self.frames.cap:
            self.cont_data, self.recving_frames = None, None
            self.frames.refuse(size)


def capped_websocket(cap: int = MAX_FRAME_BYTES) -> websocket.WebSocket:
    """A ``websocket.WebSocket`` that never holds a message over ``cap`` bytes in memory
    (websocket-client has no such option; its frame reader and reassembly are replaced)."""
    ws = websocket.WebSocket(enable_multithread=True)
    frames = CappedFrames(ws._recv, cap)
    ws.frame_buffer = frames
    ws.cont_frame = CappedMessages(frames)
    return ws


def more_waiting(ws: websocket.WebSocket) -> bool:
    """True when more bytes (a newer frame) wait, read ahead or in the socket."""
    frames = ws.frame_buffer
    if isinstance(frames, CappedFrames) and frames.buffered:
        return True
    sock = ws.sock
    if sock is None:
        return False
    pending = getattr(sock, "pending", None)  # TLS buffers what select cannot see
    if pending is not None and pending():
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed meanwhile (stop() shuts the socket)
        return False
