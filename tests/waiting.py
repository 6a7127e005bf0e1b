"""Waiting in tests: poll a condition until it holds, instead of sleeping a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T],
    timeout: float = 20,
    interval: float = 0.02,
    message: str = "the condition",
) -> T:
    """Poll ``condition`` until it returns something truthy and return that value; on timeout
    raise AssertionError naming ``message`` and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {message} (last: {value!r})")
        time.sleep(interval)  # the poll period, not a guess at how long something takes


def seconds_until(
    condition: Callable[[], object],
    timeout: float = 20,
    interval: float = 0.02,
    message: str = "the condition",
) -> float:
    """``wait_for``, returning how many seconds the condition took to hold."""
    began = time.monotonic()
    wait_for(condition, timeout, interval, message)
    return time.monotonic() - began


def page_wait(
    condition: Callable[[], object], timeout: float, what: str, every: float = 0.05
) -> float:
    """The browser tests' form of ``seconds_until``: every 0.05 s by default (a check may be a
    round trip to the page or the server), naming ``what``."""
    return seconds_until(condition, timeout, every, what)


def size_of(path: Path) -> int:
    """A file's size, 0 while it does not exist (a ``.part`` file waited on to grow)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
