"""A comm that records what a widget sends (Jupyter's transport, recorded; not our code).
Each message is packed as Jupyter packs it for the wire (``jupyter_client``'s ``json_packer``),
so a value the kernel could not send fails here as it would there."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import comm
from comm.base_comm import BaseComm
from jupyter_client.session import json_packer


class RecordingComm(BaseComm):
    """Records every message a widget sends, with the time it was sent."""

    log: ClassVar[list[tuple[float, str, dict[str, Any]]]] = []

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        json_packer({"data": data, "metadata": metadata})  # raises where Jupyter would
        RecordingComm.log.append((time.monotonic(), msg_type, data or {}))


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[float, str, dict[str, Any]]]]:
    """Widgets created inside get a RecordingComm; yields the shared log."""
    RecordingComm.log = []
    original = comm.create_comm
    comm.create_comm = lambda *a, **kw: RecordingComm(*a, **kw)
    try:
        yield RecordingComm.log
    finally:
        comm.create_comm = original


def updates(log: list, key: str) -> list[tuple[float, dict[str, Any]]]:
    """(time, value) of every state update the widget sent for trait ``key``."""
    return [
        (t, data["state"][key])
        for t, kind, data in log
        if kind == "comm_msg" and data.get("method") == "update" and key in data.get("state", {})
    ]
