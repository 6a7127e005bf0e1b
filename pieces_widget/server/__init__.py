"""The reference Pieces-OS-compatible model server (needs the ``server`` extra: aiohttp).

Run it with ``python -m pieces_widget.server --port 39300 --data-dir DIR``.
"""

from .app import create_app
from .catalog import DEMO_CATALOG, CatalogError, load_catalog
from .habits import PIECES_OS, Habits
from .ollama import OllamaOptions

__all__ = [
    "DEMO_CATALOG",
    "PIECES_OS",
    "CatalogError",
    "Habits",
    "OllamaOptions",
    "create_app",
    "load_catalog",
]
