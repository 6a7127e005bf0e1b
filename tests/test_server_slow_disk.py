"""A disk whose flushes are slow or fail, under a real transfer from a real hub.

The transfer keeps an ``fdatasync`` running behind its writes. A disk that takes seconds to
flush (a USB drive, a busy network volume) must not hold up a cancel or the server's event
loop, no single flush may grow long (nothing interrupts one, not even SIGTERM), and a flush that
fails must end the download with its reason and never let a resume trust the bytes it lost. The
slow or failing disk is injected by wrapping the one OS call (``sink._datasync``);
everything else is real.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from serverproc import MiB, ServerProcess, local_model, write_catalog
from waiting import size_of, wait_for

from pieces_widget.server import sink
from pieces_widget.server.catalog import Source
from pieces_widget.server.transfer import Transfer
from pieces_widget.server.transfers import Transfers

BLOB = 64 * MiB
SLOW_FLUSH = 2.0  # s
Scenario = Callable[[Transfers, Transfer], Awaitable[None]]


@contextlib.contextmanager
def hub(tmp_path: Path, rate: float) -> Iterator[tuple[ServerProcess, Source]]:
    """A hub serving a 64 MiB blob at ``rate`` bytes/s (0: loopback speed)."""
    catalog = write_catalog(tmp_path / "hub.json", [local_model("b", BLOB, blob="blob.bin")])
    with ServerProcess(tmp_path / "hub", catalog, hub_rate=rate) as server:
        digest = (server.data_dir / "hub" / "blob.bin.sha256").read_text().strip()
        yield server, Source(url=f"{server.url}/hub/blob.bin", sha256=digest, bytes=BLOB)


@pytest.fixture
def slow_hub(tmp_path: Path) -> Iterator[tuple[ServerProcess, Source]]:
    """16 MiB/s, so a transfer is mid-way for seconds."""
    with hub(tmp_path, 16 * MiB) as served:
        yield served


def hub_ranges(server: ServerProcess) -> list[str]:
    """The Range header of each GET of the blob, from the hub's access log ('-' for none)."""
    return re.findall(r'"GET /hub/blob.bin HTTP/1.1" \d+ \d+ Range:(\S+)', server.log())


def open_descriptors(path: Path) -> int:
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == str(path))


def run(tmp_path: Path, datasync: Callable[[int], None], *steps: tuple[Source, Scenario]) -> None:
    """Run each (source, step) as one transfer of model ``m`` in one pool, every flush calling
    ``datasync``; a step starts once the transfer has a flush in flight (or has ended)."""
    flushing = threading.Event()

    def flush(fd: int) -> None:
        flushing.set()
        datasync(fd)

    async def scenario() -> None:
        pool = Transfers()
        try:
            for source, step in steps:
                flushing.clear()
                transfer = pool.start("m", source, tmp_path / "m.part", tmp_path / "m.bin")
                await asyncio.to_thread(
                    wait_for, lambda t=transfer: flushing.is_set() or t.done, 30, 0.01
                )
                await step(pool, transfer)
        finally:
            await pool.close()

    original = sink._datasync
    sink._datasync = flush
    try:
        asyncio.run(scenario())
    finally:
        sink._datasync = original


async def until_done(_: Transfers, transfer: Transfer) -> None:
    await asyncio.wait_for(transfer.finished.wait(), 30)


def test_a_cancel_does_not_wait_for_a_slow_flush(
    tmp_path: Path, slow_hub: tuple[ServerProcess, Source]
) -> None:
    released = threading.Event()

    def slow(fd: int) -> None:  # a flush that takes SLOW_FLUSH, unless the test is done first
        released.wait(SLOW_FLUSH)
        os.fdatasync(fd)

    measured: dict[str, float] = {}
    ended: list[Transfer] = []

    async def cancel_and_watch_the_loop(pool: Transfers, transfer: Transfer) -> None:
        lags: list[float] = []

        async def ticker() -> None:  # how late does the event loop wake a 10 ms sleep?
            while True:
                began = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - began - 0.01)

        # Sleeps on purpose, here and below: the loop's lag is sampled before and after.
        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        began = time.perf_counter()
        await pool.cancel("m")
        measured["cancel"] = time.perf_counter() - began
        await asyncio.sleep(0.05)
        ticking.cancel()
        measured["lag"] = max(lags)
        ended.append(transfer)

    run(tmp_path, slow, (slow_hub[1], cancel_and_watch_the_loop))
    released.set()
    transfer = ended[0]
    assert transfer.status == "CANCELED"
    assert measured["cancel"] < SLOW_FLUSH / 4, measured
    assert measured["lag"] < SLOW_FLUSH / 4, measured
    part = tmp_path / "m.part"
    assert 0 < part.stat().st_size < BLOB  # kept for a resume
    assert not (tmp_path / "m.bin").exists()
    assert transfer.last_flush is not None
    transfer.last_flush.result(timeout=10)  # the flush ends on its own, and closes its copy
    assert open_descriptors(part) == 0


def test_no_flush_grows_past_the_cap(tmp_path: Path) -> None:
    """From a fast source onto a slow disk, every flush (each 0.3 s here) covers at most about
    32 MiB: the download waits for the disk instead of running ahead of it."""
    covered: list[int] = []
    last = [0]

    def slow(fd: int) -> None:
        size = os.fstat(fd).st_size
        covered.append(size - last[0])
        last[0] = size
        time.sleep(0.3)  # a sleep on purpose: the slow disk under test
        os.fdatasync(fd)

    with hub(tmp_path, 0) as (_, source):
        run(tmp_path, slow, (source, until_done))
    assert (tmp_path / "m.bin").stat().st_size == BLOB
    covered.append(BLOB - last[0])  # the final fsync's share
    # at most 32 MiB (FLUSH_AHEAD) and a chunk on its way each, which takes 3 flushes or more;
    # measured when the flush thread starts, so the bytes the disk thread wrote while it was
    # being scheduled count too (2.5 MiB once, three workers on two cores): 4 chunks of slack
    assert max(covered) <= 36 * MiB, [round(c / MiB, 1) for c in covered]
    assert len(covered) >= 3, covered


def test_a_failed_flush_fails_the_download_with_its_reason(
    tmp_path: Path, slow_hub: tuple[ServerProcess, Source]
) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    ended: list[Transfer] = []

    async def record(pool: Transfers, transfer: Transfer) -> None:
        await until_done(pool, transfer)
        ended.append(transfer)

    run(tmp_path, broken, (slow_hub[1], record))
    transfer = ended[0]
    assert transfer.status == "FAILED"
    assert transfer.error is not None
    assert "Input/output error" in transfer.error, transfer.error
    assert "partial file was removed" in transfer.error, transfer.error
    assert not (tmp_path / "m.part").exists()
    assert not (tmp_path / "m.bin").exists()


def test_a_flush_that_fails_after_a_cancel_makes_the_next_download_start_over(
    tmp_path: Path, slow_hub: tuple[ServerProcess, Source]
) -> None:
    """The flush a cancel leaves running fails later: nobody is there to hear it, and the kernel
    reports a write-back error only once. The next download of the model must not resume from
    bytes that may be in memory only; it waits for that flush and starts from 0."""
    server, source = slow_hub
    released = threading.Event()
    calls = [0]

    def fails_once_released(fd: int) -> None:
        calls[0] += 1
        if calls[0] == 1:
            released.wait(10)
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        os.fdatasync(fd)

    async def cancel_then_fail(pool: Transfers, transfer: Transfer) -> None:
        part = tmp_path / "m.part"
        at_flush = size_of(part)  # more bytes after the flush's start:
        await asyncio.to_thread(wait_for, lambda: size_of(part) > at_flush, 10)
        await pool.cancel("m")
        assert transfer.status == "CANCELED"
        assert (tmp_path / "m.part").stat().st_size > 0
        released.set()

    ended: list[Transfer] = []

    async def download_again(pool: Transfers, transfer: Transfer) -> None:
        await until_done(pool, transfer)
        ended.append(transfer)

    run(tmp_path, fails_once_released, (source, cancel_then_fail), (source, download_again))
    assert ended[0].status == "COMPLETED", ended[0].error
    assert ended[0].digest == source.sha256
    assert hub_ranges(server) == ["-", "-"]  # the second GET asked for the whole blob
