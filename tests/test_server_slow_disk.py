"""A disk whose flushes are slow or fail, under a real transfer from a real hub.

The transfer keeps an ``fdatasync`` running behind its writes. A disk that takes seconds to
flush (a USB drive, a busy network volume) must not hold up a cancel or the server's event
loop, and a flush that fails must end the download with its reason. The slow or failing disk is
injected by wrapping the one OS call (``transfers._datasync``); everything else is real.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from serverproc import MiB, ServerProcess, local_model, write_catalog

from pieces_widget.server import transfers
from pieces_widget.server.catalog import Source
from pieces_widget.server.transfers import Transfers

BLOB = 64 * MiB
SLOW_FLUSH = 2.0  # s


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    """A 64 MiB blob on a hub sending 16 MiB/s, so the transfer is mid-way for seconds."""
    catalog = write_catalog(tmp_path / "hub.json", [local_model("b", BLOB, blob="blob.bin")])
    with ServerProcess(tmp_path / "hub", catalog, hub_rate=16 * MiB) as hub:
        digest = (hub.data_dir / "hub" / "blob.bin.sha256").read_text().strip()
        yield Source(url=f"{hub.url}/hub/blob.bin", sha256=digest, bytes=BLOB)


def run_until_flushing(
    tmp_path: Path,
    source: Source,
    datasync: Callable[[int], None],
    then: Callable[[Transfers, transfers.Transfer], Awaitable[None]],
) -> transfers.Transfer:
    """Start a transfer whose flushes call ``datasync``; once one is in flight, run ``then``."""
    flushing = threading.Event()

    def flush(fd: int) -> None:
        flushing.set()
        datasync(fd)

    async def scenario() -> transfers.Transfer:
        pool = Transfers()
        transfer = pool.start("m", source, tmp_path / "m.part", tmp_path / "m.bin")
        try:
            while not flushing.is_set():
                assert not transfer.done, transfer.error
                await asyncio.sleep(0.01)
            await then(pool, transfer)
        finally:
            await pool.close()
        return transfer

    original = transfers._datasync
    transfers._datasync = flush
    try:
        return asyncio.run(scenario())
    finally:
        transfers._datasync = original


def test_a_cancel_does_not_wait_for_a_slow_flush(tmp_path: Path, source: Source) -> None:
    def slow(fd: int) -> None:
        time.sleep(SLOW_FLUSH)
        os.fdatasync(fd)

    measured: dict[str, float] = {}

    async def cancel_and_watch_the_loop(pool: Transfers, transfer: transfers.Transfer) -> None:
        lags: list[float] = []

        async def ticker() -> None:  # how late does the event loop wake a 10 ms sleep?
            while True:
                began = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - began - 0.01)

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        began = time.perf_counter()
        await pool.cancel("m")
        measured["cancel"] = time.perf_counter() - began
        await asyncio.sleep(0.05)
        ticking.cancel()
        measured["lag"] = max(lags)

    transfer = run_until_flushing(tmp_path, source, slow, cancel_and_watch_the_loop)
    assert transfer.status == "CANCELED"
    assert measured["cancel"] < SLOW_FLUSH / 4, measured
    assert measured["lag"] < SLOW_FLUSH / 4, measured
    part = tmp_path / "m.part"
    assert 0 < part.stat().st_size < BLOB  # kept for a resume
    assert not (tmp_path / "m.bin").exists()


def test_a_failed_flush_fails_the_download_with_its_reason(tmp_path: Path, source: Source) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    async def wait_for_the_end(_: Transfers, transfer: transfers.Transfer) -> None:
        await asyncio.wait_for(transfer.finished.wait(), 10)

    transfer = run_until_flushing(tmp_path, source, broken, wait_for_the_end)
    assert transfer.status == "FAILED"
    assert transfer.error is not None
    assert "Input/output error" in transfer.error, transfer.error
    assert transfer.frame()["error"] == transfer.error
    assert not (tmp_path / "m.bin").exists()
