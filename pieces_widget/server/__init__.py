"""The reference Pieces-OS-compatible model server (needs the ``server`` extra: aiohttp, filelock).

Run it with ``python -m pieces_widget.server --port 39300 --data-dir DIR``. Its modules are
imported on first use, so this package, ``extra`` and ``supervise`` load without the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .catalog import DEMO_CATALOG, CatalogError, load_catalog
    from .habits import PIECES_OS, Habits
    from .ollama import OllamaOptions

_HOMES = {"create_app": "app", "DEMO_CATALOG": "catalog", "CatalogError": "catalog",
          "load_catalog": "catalog", "PIECES_OS": "habits", "Habits": "habits",
          "OllamaOptions": "ollama"}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pieces_widget.server' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEMO_CATALOG",
    "PIECES_OS",
    "CatalogError",
    "Habits",
    "OllamaOptions",
    "create_app",
    "load_catalog",
]
