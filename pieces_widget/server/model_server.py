"""The state the handlers share: the store, the transfers, the loaded weights, each model's
lock and its last download error, and a model's JSON as every route answers it.

Everything that changes one model (download start, load, unload, delete) runs under that
model's lock, so any interleaving of requests leaves it in a state the next request can use.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from ..core.models import FAILED
from .catalog import CatalogEntry, byte_descriptor
from .habits import Habits
from .memory import LoadedWeights
from .ollama import OllamaOptions, OllamaRuntime
from .sources import SourceOptions
from .store import ModelStore
from .transfer import Transfer
from .transfers import Transfers


class ModelGone(Exception):
    """The model was deleted while a request waited for its lock."""


class ModelServer:
    """State shared by the handlers: catalog, store, transfers, loaded weights."""

    def __init__(
        self,
        store: ModelStore,
        options: SourceOptions,
        habits: Habits | None = None,
        ollama: OllamaOptions | None = None,
    ) -> None:
        self.store = store
        self.habits = habits = habits or Habits()
        self.transfers = Transfers(options, on_done=self._transfer_done, habits=habits)
        self.ollama = OllamaRuntime(store.data_dir, ollama or OllamaOptions(), options)
        self.ollama.on_uninstall = self._drop_all_weights  # no Ollama, no local model runs
        self.loaded: dict[str, LoadedWeights] = {}
        self.errors: dict[str, str] = {}  # model id -> why its last download failed
        self.health_id = str(uuid.uuid4())
        self.closing = asyncio.Event()
        self.stop_loads = threading.Event()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def catalog(self) -> dict[str, CatalogEntry]:
        return self.store.catalog

    def model_json(self, model_id: str) -> dict[str, Any]:
        model = self.store.metadata(model_id)
        # One source of truth for both flags: the weights are renamed into place a moment
        # before the transfer ends, and until it has ended the model is not downloaded yet.
        transfer = self.transfers.active(model_id)
        model["downloading"] = transfer is not None and not transfer.pending
        model["downloaded"] = downloaded = transfer is None and self.store.is_downloaded(model_id)
        weights = self.loaded.get(model_id)
        model["loaded"] = weights is not None
        if weights is not None:
            model["ram"] = byte_descriptor(weights.size)
        if model_id in self.errors:
            model["error"] = self.errors[model_id]
        if (
            not downloaded
            and self.catalog[model_id].source is not None
            and not self.habits.cancel_discards  # Pieces OS's older stack kept no partial
        ):
            partial = self.store.partial_bytes(model_id)
            if partial is not None:
                model["partialBytes"] = partial
        return model

    def reply(self, model_id: str) -> web.Response:
        """The model's JSON as the answer of a route."""
        return web.json_response(self.model_json(model_id))

    @asynccontextmanager
    async def model_lock(self, model_id: str) -> Any:
        """Hold the model's lock; ``ModelGone`` if the model went away while we waited."""
        async with self._locks[model_id]:
            if model_id not in self.catalog:
                raise ModelGone(model_id)
            yield

    def drop_lock(self, model_id: str) -> None:
        """Forget a deleted model's lock."""
        self._locks.pop(model_id, None)

    def _transfer_done(self, transfer: Transfer) -> None:
        if transfer.status == FAILED and transfer.error:
            self.errors[transfer.model_id] = transfer.error
        if transfer.digest is not None and transfer.model_id in self.catalog:
            self.store.record_digest(transfer.model_id, transfer.digest)  # saved in the background

    async def unload(self, model_id: str) -> None:
        async with self._locks[model_id]:
            self.drop_weights(model_id)

    def drop_weights(self, model_id: str) -> None:
        weights = self.loaded.pop(model_id, None)
        if weights is not None:
            weights.close()

    def _drop_all_weights(self) -> None:
        for model_id in list(self.loaded):
            self.drop_weights(model_id)

    async def close(self, _: web.Application | None = None) -> None:
        """Stop everything in flight (on shutdown): sockets, transfers, loads."""
        self.closing.set()
        self.stop_loads.set()
        await self.transfers.close()
        await self.ollama.close()
        for weights in self.loaded.values():
            weights.close()
        self.loaded.clear()
        await self.store.close()
