"""Reference server: download throughput vs curl (at loopback speed and from a 100 MiB/s
source), cancel latency, load memory."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import requests
import websocket

from .common import (
    MiB,
    Row,
    ServerProcess,
    hub_and_server,
    hub_blob,
    local_model,
    median_of,
    rotate,
    write_catalog,
)

BLOB = 256 * MiB
RUNS = 7
RATED_RUNS = 5  # at 100 MiB/s a run takes 2.6 s
CANCEL_TRIES = 20


def _wait_downloaded(url: str, model_id: str) -> None:
    ws = websocket.create_connection(
        f"{url.replace('http', 'ws', 1)}/model/{model_id}/download/progress"
    )
    while True:
        frame = json.loads(ws.recv())
        if frame["status"] in ("COMPLETED", "FAILED", "CANCELED"):
            assert frame["status"] == "COMPLETED", frame
            ws.close()
            return


def throughput(tmp: Path, source_rate: float = 0) -> list[Row]:
    """Our transfer (stream + sha256 + fsync + rename) against baselines fetching the same blob
    from the same hub: ``curl -o`` (no hash, no fsync) and ``curl -o`` followed by an fsync of its
    file (the same durability as ours). At loopback speed also ``dd conv=fsync`` of the blob from
    the page cache: a durable copy with no network at all. ``source_rate`` (bytes/s) caps the hub,
    as a fast real source would; 0 is loopback speed."""
    where = f"from a {source_rate / MiB:.0f} MiB/s source" if source_rate else "over loopback"
    run_dir = tmp / f"rate-{source_rate:.0f}"
    with hub_and_server(run_dir, BLOB, source_rate) as (server, source):
        out = tmp / "baseline.bin"
        blob = hub_blob(run_dir)

        def curl(durable: bool = False) -> None:
            subprocess.run(["curl", "-s", "-o", str(out), source["url"]], check=True)
            if durable:
                fd = os.open(out, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)

        def dd() -> None:
            args = [f"if={blob}", f"of={out}", "bs=1M", "conv=fsync", "status=none"]
            subprocess.run(["dd", *args], check=True)

        def ours() -> None:
            requests.post(f"{server.url}/model/big/download", timeout=10)
            _wait_downloaded(server.url, "big")

        def clean_up() -> None:
            requests.post(f"{server.url}/models/big/delete/cache", json={}, timeout=10)
            out.unlink(missing_ok=True)
            subprocess.run(["sync"], check=True)  # the previous file's writeback costs no one

        runners: dict[str, Callable[[], object]] = {"ours": ours, "curl -o": curl}
        if not source_rate:
            runners["curl -o + fsync"] = lambda: curl(durable=True)
            runners["dd conv=fsync, no network"] = dd
        times = rotate(runners, RATED_RUNS if source_rate else RUNS, clean_up)
    rates = {name: BLOB / median_of(samples) / MiB for name, samples in times.items()}
    ours_rate = rates.pop("ours")
    return [
        Row(
            f"download 256 MiB {where} (MiB/s) vs {name}",
            f"{ours_rate:.0f}",
            f"{name} {rate:.0f}",
            ours_rate / rate,
            ">= 0.9x",
            ours_rate / rate >= 0.9,
        )
        for name, rate in rates.items()
    ]


def cancel_latency(tmp: Path) -> Row:
    """POST cancel -> CANCELED frame on the progress socket, median of 20."""
    catalog = write_catalog(tmp / "cancel.json", [local_model("m", 64 * MiB)])
    latencies = []
    with ServerProcess(tmp / "cancel", catalog, hub_rate=8 * MiB) as server:
        url = server.url
        for _ in range(CANCEL_TRIES):
            ws = websocket.create_connection(
                f"{url.replace('http', 'ws', 1)}/model/m/download/progress"
            )
            requests.post(f"{url}/model/m/download", timeout=10)
            while json.loads(ws.recv())["status"] != "IN-PROGRESS":
                pass
            time.sleep(0.15)
            began = time.perf_counter()
            requests.post(f"{url}/model/m/download/cancel", timeout=10)
            while json.loads(ws.recv())["status"] != "CANCELED":
                pass
            latencies.append(time.perf_counter() - began)
            ws.close()
            requests.post(f"{url}/models/m/delete/cache", json={}, timeout=10)
    median_ms = median_of(latencies) * 1000
    return Row(
        "cancel -> CANCELED frame (ms, median of 20)",
        f"{median_ms:.1f}",
        "target 100",
        median_ms / 100,
        "<= 1.0x",
        median_ms <= 100,
    )


def load_memory(tmp: Path) -> Row:
    """RSS growth of the server on loading a 256 MiB model, and what unload gives back."""
    catalog = write_catalog(tmp / "load.json", [local_model("m", BLOB)])
    with ServerProcess(tmp / "load", catalog, hub_rate=0) as server:
        assert server.proc is not None
        process = psutil.Process(server.proc.pid)
        requests.post(f"{server.url}/model/m/download", timeout=10)
        _wait_downloaded(server.url, "m")
        before = process.memory_info().rss
        requests.post(f"{server.url}/model/m/load", timeout=60)
        during = process.memory_info().rss
        requests.post(f"{server.url}/model/m/unload", timeout=60)
        after = process.memory_info().rss
    grew, freed = (during - before) / BLOB, (during - after) / BLOB
    return Row(
        "load 256 MiB: RSS growth / model size",
        f"{grew:.3f}x (unload frees {freed:.3f}x)",
        "model size",
        grew,
        "0.95x-1.1x",
        0.95 <= grew <= 1.1 and freed >= 0.95,
    )


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        return [
            *throughput(Path(tmp)),
            *throughput(Path(tmp), source_rate=100 * MiB),
            cancel_latency(Path(tmp)),
            load_memory(Path(tmp)),
        ]
