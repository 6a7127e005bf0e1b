"""Shared pieces of the benchmarks: result rows, timing, a server in a temp dir."""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from serverproc import MiB, ServerProcess, local_model, write_catalog, write_cloud_models

__all__ = [
    "MiB",
    "Row",
    "ServerProcess",
    "hub_and_server",
    "hub_blob",
    "local_model",
    "median_of",
    "rotate",
    "write_catalog",
    "write_cloud_models",
]


@dataclass
class Row:
    name: str
    ours: str
    baseline: str
    ratio: float
    target: str
    passed: bool


def median_of(times: list[float]) -> float:
    return statistics.median(times)


def rotate(
    runners: dict[str, Callable[[], object]], runs: int, after: Callable[[], object]
) -> dict[str, list[float]]:
    """Time each runner ``runs`` times, rotating who goes first, calling ``after`` after each
    (clean up, ``sync``) untimed. A first, untimed round warms up connections, threads and the
    page cache."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for i in range(runs + 1):
        turn = i % len(names)
        for name in names[turn:] + names[:turn]:
            began = time.perf_counter()
            runners[name]()
            if i:
                times[name].append(time.perf_counter() - began)
            after()
    return times


def timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def hub_blob(tmp: Path) -> Path:
    """The blob file ``hub_and_server(tmp, ...)`` serves."""
    return tmp / "hub" / "hub" / "blob.bin"


@contextlib.contextmanager
def hub_and_server(
    tmp: Path, size: int, hub_rate: float = 0
) -> Iterator[tuple[ServerProcess, dict[str, Any]]]:
    """A hub serving one ``size``-byte blob, and a server whose model ``big`` downloads it:
    yields the server and the blob's source (``url``, ``sha256``, ``bytes``), the baseline's URL.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    hub_catalog = write_catalog(tmp / "hub.json", [local_model("blob", size, blob="blob.bin")])
    with ServerProcess(tmp / "hub", hub_catalog, hub_rate=hub_rate) as hub:
        digest = hub_blob(tmp).with_suffix(".bin.sha256").read_text().strip()
        source = {"url": f"{hub.url}/hub/blob.bin", "sha256": digest, "bytes": size}
        catalog = write_catalog(tmp / "c.json", [{"id": "big", "name": "Big", "source": source}])
        with ServerProcess(tmp / "srv", catalog) as server:
            yield server, source
