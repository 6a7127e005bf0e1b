"""Shared pieces of the benchmarks: result rows, timing, a server in a temp dir."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from serverproc import MiB, ServerProcess, local_model, write_catalog

__all__ = ["MiB", "Row", "ServerProcess", "local_model", "median_of", "write_catalog"]


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


def timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began
