"""Client side: progress ingest rate, discovery with nothing running, import cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import websocket

from pieces_widget import DownloadJob, PiecesClient
from pieces_widget.core.discovery import discover
from pieces_widget.core.errors import PiecesConnectionError

from .common import Row, median_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from faultserver import FaultServer

FRAMES = 50_000


def ingest() -> Row:
    """Frames/s through ProgressStream + DownloadJob vs a bare websocket-client recv loop."""
    fault = FaultServer()
    fault.frames = [
        json.dumps({"status": "IN-PROGRESS", "percentage": i * 100 / FRAMES}) for i in range(FRAMES)
    ] + [json.dumps({"status": "COMPLETED", "percentage": 100})]
    fault.frame_interval = 0
    ws_url = fault.url.replace("http", "ws") + "/model/m/download/progress"
    ours, bare = [], []
    try:
        for _ in range(3):
            began = time.perf_counter()
            ws = websocket.create_connection(ws_url)
            count = 0
            while True:
                opcode, _data = ws.recv_data()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                count += 1
            ws.close()
            bare.append(time.perf_counter() - began)
            assert count == FRAMES + 1
            began = time.perf_counter()
            updates = []
            job = DownloadJob(PiecesClient(fault.url), "m", on_update=updates.append)
            assert job.wait(120) == "COMPLETED"
            ours.append(time.perf_counter() - began)
            job.stop()
    finally:
        fault.close()
    ours_rate, bare_rate = FRAMES / median_of(ours), FRAMES / median_of(bare)
    ratio = ours_rate / bare_rate
    return Row(
        f"progress ingest, {FRAMES:,} frames (frames/s)",
        f"{ours_rate:,.0f}",
        f"bare websocket-client {bare_rate:,.0f}",
        ratio,
        ">= 0.8x",
        ratio >= 0.8,
    )


def discovery() -> Row:
    """``discover()`` vs the official SDK's port scan, nothing running, median of 20."""
    from pieces_os_client.wrapper.client import PiecesClient as SdkClient

    os.environ.pop("PIECES_OS_URL", None)
    os.environ["PIECES_OS_PORT_FILE"] = "/nonexistent/.port.txt"
    ours, sdk = [], []
    for _ in range(20):
        began = time.perf_counter()
        try:
            discover()
            raise RuntimeError("something is listening in the scan range: stop it first")
        except PiecesConnectionError:
            ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        try:
            SdkClient._port_scanning()
        except ValueError:
            sdk.append(time.perf_counter() - began)
    ours_ms, sdk_ms = median_of(ours) * 1000, median_of(sdk) * 1000
    return Row(
        "discovery, nothing running (ms, median of 20)",
        f"{ours_ms:.1f}",
        f"pieces-os-client scan {sdk_ms:.1f}",
        ours_ms / sdk_ms,
        "<= 1.0x and <= 500 ms",
        ours_ms <= sdk_ms and ours_ms <= 500,
    )


def _import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def import_cost() -> Row:
    ours = [_import_time("pieces_widget") for _ in range(10)]
    base = [_import_time("anywidget") for _ in range(10)]
    check = "import sys, pieces_widget; print('aiohttp' in sys.modules)"
    heavy = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).stdout
    ratio = median_of(ours) / median_of(base)
    return Row(
        "import pieces_widget (ms, median of 10)",
        f"{median_of(ours) * 1000:.0f} (aiohttp imported: {heavy.strip()})",
        f"import anywidget {median_of(base) * 1000:.0f}",
        ratio,
        "<= 1.2x, no aiohttp",
        ratio <= 1.2 and heavy.strip() == "False",
    )


def run() -> list[Row]:
    return [ingest(), discovery(), import_cost()]
