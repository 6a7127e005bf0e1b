"""Disk and memory at a glance: what is on device and loaded, and what this machine has free.

Counts and sizes come from the model list; memory from psutil (this machine, where a local
Pieces OS runs too); free disk from the server's capabilities when it reports them (the
reference server measures its data directory), else from the home directory's disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from .models import Model, readable_bytes


class Resources(TypedDict):
    """``_resources``: this machine's memory and the model store's disk, for the header summary
    and the fit hints. Counts and sizes of models come from ``models`` itself."""

    total_memory: int | None  # bytes
    available_memory: int | None  # bytes
    free_disk: int | None  # bytes free where the models are stored (None when unknown)


def machine_resources(capabilities: Mapping[str, Any] | None = None) -> Resources:
    """This machine's memory and the model store's free disk, in bytes."""
    import psutil  # imported here: only the summary needs it

    memory = psutil.virtual_memory()
    disk = (capabilities or {}).get("disk")
    free = disk.get("free") if isinstance(disk, dict) else None
    if not isinstance(free, int) or isinstance(free, bool):
        try:
            free = psutil.disk_usage(str(Path.home())).free
        except OSError:
            free = None
    return {
        "total_memory": memory.total,
        "available_memory": memory.available,
        "free_disk": free,
    }


@dataclass(frozen=True)
class Summary:
    """What ``ModelManager.summary()`` returns; its repr is the widget's header line."""

    on_device: int  # models downloaded
    on_device_bytes: int
    loaded: int  # models in memory
    loaded_ram: int
    total_memory: int | None
    available_memory: int | None
    free_disk: int | None

    def __str__(self) -> str:
        """What each number is, as the widget's header says it (js/src/state.js summarize):
        "Disk: 3 models, 185 MB · 64.7 GB free · Memory: 1 model loaded, 33.6 MB of 25.3 GB"."""
        if self.on_device:
            many = "s" if self.on_device != 1 else ""
            parts = [f"Disk: {self.on_device} model{many}, {readable_bytes(self.on_device_bytes)}"]
        else:
            parts = ["No models on this device yet"]
        if self.free_disk is not None:
            parts.append(f"{readable_bytes(self.free_disk)} free")
        if self.loaded:
            many = "s" if self.loaded != 1 else ""
            memory = f"Memory: {self.loaded} model{many} loaded, {readable_bytes(self.loaded_ram)}"
            if self.total_memory is not None:
                memory += f" of {readable_bytes(self.total_memory)}"
        else:
            memory = "Memory: no model loaded"
        parts.append(memory)
        return " · ".join(parts)

    def __repr__(self) -> str:
        return f"<Summary {self}>"


def summarize(models: Iterable[Model], resources: Resources) -> Summary:
    models = list(models)
    on_device = [m for m in models if m.downloaded]
    loaded = [m for m in models if m.loaded]
    return Summary(
        on_device=len(on_device),
        on_device_bytes=sum(m.bytes or 0 for m in on_device),
        loaded=len(loaded),
        loaded_ram=sum(m.ram or 0 for m in loaded),
        total_memory=resources["total_memory"],
        available_memory=resources["available_memory"],
        free_disk=resources["free_disk"],
    )
