"""Disk space is reserved, not just checked: a download starts only if the disk can hold it
besides what the downloads already in flight still have to write (their ``.part`` files grow
into the same free space)."""

from __future__ import annotations

import shutil

from ..core.models import readable_bytes
from .catalog import Source
from .store import ModelStore
from .transfers import Transfers


def space_refusal(
    store: ModelStore, transfers: Transfers, model_id: str, source: Source
) -> str | None:
    """Why ``model_id`` cannot start downloading for lack of space, or None. Runs with no
    ``await`` between it and the start of the transfer, so two starts never share the space."""
    partial = store.partial_bytes(model_id) or 0
    needed = source.bytes - (partial if partial <= source.bytes else 0)
    free = shutil.disk_usage(store.weights_dir).free
    promised, count = transfers.outstanding()
    if needed <= free - promised:
        return None
    message = f"not enough disk space: needs {readable_bytes(needed)}, "
    if not promised:
        return message + f"{readable_bytes(free)} free"
    downloads = "1 download" if count == 1 else f"{count} downloads"
    return message + (
        f"{readable_bytes(max(free - promised, 0))} left: {readable_bytes(free)} free, of which "
        f"{downloads} in flight still need {readable_bytes(promised)}"
    )
