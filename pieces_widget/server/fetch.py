"""One download's bytes from its http(s) source into its ``Sink``: resume with ``Range`` (and
``If-Range`` when the ``.part``'s version is known), retries with a delay, a source that
changed or ignored ``Range``, and ``Habits.reset_at`` (Pieces OS starting a download over)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

import aiohttp

from ..core.models import IN_PROGRESS, RESET
from . import resume
from .catalog import Source
from .habits import Habits
from .resume import Validator
from .sink import CHUNK, DiskError, Sink
from .sources import (
    MAX_REDIRECTS,
    SourceError,
    SourceOptions,
    check_identity,
    content_range_start,
    describe_client_error,
    status_error,
)

log = logging.getLogger("pieces_widget.server")


class _StartOver(Exception):
    """The transfer passed ``Habits.reset_at``: drop what was received and start from byte 0."""


class Fetcher:
    """Fills a sink from ``source`` from ``sink.queued`` to the end. ``validator`` is the version
    the ``.part`` holds (None: unknown); ``on_status`` hears ``IN_PROGRESS`` and ``RESET``,
    ``on_bytes`` each chunk received."""

    def __init__(
        self,
        model_id: str,
        source: Source,
        part: Path,
        session: aiohttp.ClientSession,
        options: SourceOptions,
        habits: Habits,
        on_status: Callable[[str], None],
        on_bytes: Callable[[], None],
    ) -> None:
        self.model_id = model_id
        self.source = source
        self.part = part
        self.validator: Validator | None = None
        self.resets = 0  # times the transfer started over (RESET frames)
        self._session = session
        self._options = options
        self._habits = habits
        self._on_status = on_status
        self._on_bytes = on_bytes

    async def run(self, sink: Sink) -> None:
        """Fetch until the sink holds the whole file, retrying what a retry may fix."""
        options = self._options
        failures = 0
        while True:
            before = sink.queued
            try:
                await self._fetch(sink)
                return
            except _StartOver:
                await sink.restart()
                self.resets += 1
                self._on_status(RESET)
                continue
            except SourceError as exc:
                error = exc
            except aiohttp.ClientError as exc:
                error = describe_client_error(exc, options.stall_timeout)
            except asyncio.TimeoutError as exc:
                error = describe_client_error(exc, options.stall_timeout)
            if not error.retry:
                raise error
            failures = 1 if sink.queued > before else failures + 1
            if failures > options.retries:
                raise SourceError(f"{error} (gave up after {options.retries} retries)")
            delay = options.delay(failures)
            log.info("download of %r: %s; retry %d in %.1fs", self.model_id, error, failures, delay)
            await sink.drain()
            await asyncio.sleep(delay)

    async def _fetch(self, sink: Sink) -> None:
        """One request from ``sink.queued`` to the end (two when the source's file changed
        under a resume and it ignored ``If-Range``)."""
        for _ in range(2):
            offset = sink.queued
            headers = self._options.headers_for(self.source.url)
            if offset:
                headers["Range"] = f"bytes={offset}-"
                if self.validator is not None:
                    headers["If-Range"] = self.validator.if_range()
            async with self._session.get(
                self.source.url, headers=headers, max_redirects=MAX_REDIRECTS + 1
            ) as response:
                check_identity(response.headers)
                saving = None
                if offset and response.status == 206:
                    start = content_range_start(response.headers.get("Content-Range"))
                    if start != offset:
                        raise SourceError(f"the source sent bytes from {start}, not from {offset}")
                    if self.validator is not None and not self.validator.same_as(response.headers):
                        log.info("%r: the source's file changed: from 0", self.model_id)
                        await sink.restart()
                        continue
                elif response.status == 200:
                    if offset:  # the file changed (If-Range), or the source ignored Range
                        await sink.restart()
                    saving = self._remember(Validator.of(response.headers))
                else:
                    raise status_error(response.status, response.reason)
                self._on_status(IN_PROGRESS)
                await self._receive(response, sink, saving)
            if sink.queued != self.source.bytes:
                raise SourceError(
                    f"the source ended early: {sink.queued} of {self.source.bytes} bytes", True
                )
            return
        raise SourceError("the source's file keeps changing")

    async def _receive(
        self,
        response: aiohttp.ClientResponse,
        sink: Sink,
        saving: asyncio.Future[None] | None,
    ) -> None:
        """The body into ``sink``; no byte is written before ``saving`` (the validator of
        this version) is on disk. The network is read meanwhile: aiohttp drops what it holds
        when the connection breaks, and bytes already taken are bytes a retry need not ask for."""
        total = self.source.bytes
        try:
            async for chunk in response.content.iter_chunked(CHUNK):
                if saving is not None:
                    await _wait_for(saving)
                    saving = None
                if sink.queued + len(chunk) > total:
                    raise SourceError(f"the source sent more than the expected {total} bytes")
                await sink.put(chunk)
                if self._reset_due(sink.queued):
                    raise _StartOver
                self._on_bytes()
        finally:
            if saving is not None:  # never leave a write of the .resume file running behind
                with contextlib.suppress(OSError, DiskError):
                    await _wait_for(saving)

    def _remember(self, validator: Validator | None) -> asyncio.Future[None] | None:
        """Start keeping the version of the bytes to come with the ``.part`` (a thread: it
        fsyncs); None when there is nothing to wait for."""
        self.validator = validator
        if validator is None:
            resume.drop(self.part)  # an older version's validator must not outlive its bytes
            return None
        return asyncio.get_running_loop().run_in_executor(
            None, resume.save, self.part, self.source.url, validator
        )

    def _reset_due(self, received: int) -> bool:
        """Whether this transfer just passed ``Habits.reset_at`` for the first time."""
        reset_at = self._habits.reset_at
        return (
            reset_at is not None
            and self.resets == 0
            and received * 100 >= reset_at * self.source.bytes
        )


async def _wait_for(work: asyncio.Future[None]) -> None:
    """Wait for a thread's file work, even through a cancel (then re-raised); its OSError as
    a ``DiskError``."""
    try:
        await asyncio.shield(work)
    except asyncio.CancelledError:
        while not work.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([work])
        raise
    except OSError as exc:
        raise DiskError(exc) from exc
