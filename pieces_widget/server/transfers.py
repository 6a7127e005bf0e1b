"""The downloads of one server: at most one ``Transfer`` per model at a time; a second download
request for the same model joins it. Watchers (progress WebSockets) get an ``asyncio.Event`` set
on every change of a transfer (see ``transfer.py``; the disk side is ``sink.py``, the network side
``fetch.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp

from .catalog import Source
from .habits import Habits
from .sources import SourceOptions, probe_size, session_factory
from .transfer import Transfer


class Transfers:
    """The transfers of one server: at most one in flight per model."""

    def __init__(
        self,
        options: SourceOptions | None = None,
        on_done: Callable[[Transfer], None] | None = None,
        habits: Habits | None = None,
    ) -> None:
        self.options = options or SourceOptions()
        self.habits = habits or Habits()
        self._session_factory = session_factory(self.options)
        self._session: aiohttp.ClientSession | None = None
        self._on_done = on_done
        self._active: dict[str, Transfer] = {}
        self._started: dict[str, asyncio.Event] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    async def probe_size(self, url: str) -> int:
        """The size the source at ``url`` announces (``SourceError`` otherwise)."""
        options = self.options
        return await probe_size(self.session, url, options.stall_timeout, options.headers_for(url))

    def active(self, model_id: str) -> Transfer | None:
        transfer = self._active.get(model_id)
        return transfer if transfer is not None and not transfer.done else None

    def start(self, model_id: str, source: Source, part: Path, final: Path) -> Transfer:
        """Start a download, or return the one already in flight for this model."""
        running = self.active(model_id)
        if running is not None:
            return running
        previous = self._active.get(model_id)
        transfer = Transfer(
            model_id,
            source,
            part,
            final,
            self.session,
            self.options,
            self._on_done,
            after=previous.last_flush if previous is not None else None,
            habits=self.habits,
        )
        self._active[model_id] = transfer
        started = self._started.pop(model_id, None)
        if started is not None:
            started.set()
        return transfer

    def outstanding(self) -> tuple[int, int]:
        """Bytes the transfers in flight still have to write, and how many transfers."""
        running = [t for t in self._active.values() if not t.done]
        return sum(max(t.source.bytes - t.bytes_done, 0) for t in running), len(running)

    async def wait_started(self, model_id: str) -> Transfer:
        """The transfer in flight for ``model_id``, waiting for one to start if needed."""
        while (transfer := self.active(model_id)) is None:
            await self._started.setdefault(model_id, asyncio.Event()).wait()
        return transfer

    async def cancel(self, model_id: str) -> None:
        transfer = self.active(model_id)
        if transfer is not None:
            await transfer.cancel()

    def forget(self, model_id: str) -> None:
        """Drop a finished transfer of a model that no longer exists."""
        transfer = self._active.get(model_id)
        if transfer is not None and transfer.done:
            del self._active[model_id]

    async def close(self) -> None:
        running = [t for t in self._active.values() if not t.done]
        if running:
            await asyncio.gather(*(t.cancel() for t in running))
        if self._session is not None:
            await self._session.close()
