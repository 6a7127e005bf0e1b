"""pieces-widget: manage the local AI models of Pieces OS from a Jupyter cell."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .core.client import PiecesClient
    from .core.errors import (
        ModelNotFoundError,
        PiecesConnectionError,
        PiecesError,
        PiecesServerError,
        PiecesTimeoutError,
    )
    from .core.jobs import DownloadJob
    from .core.models import DownloadProgress, Model
    from .core.summary import Summary
    from .widget.manager import ModelManager

# Imported on first use (PEP 562), so `import pieces_widget` and the CLI's start-up stay cheap
# and the widget's anywidget/ipywidgets load only when a ModelManager is asked for.
_HOMES = {
    "PiecesClient": "core.client",
    "DownloadJob": "core.jobs",
    "DownloadProgress": "core.models",
    "Model": "core.models",
    "ModelManager": "widget.manager",
    "Summary": "core.summary",
    **dict.fromkeys(
        ["ModelNotFoundError", "PiecesConnectionError", "PiecesError", "PiecesServerError",
         "PiecesTimeoutError"],
        "core.errors",
    ),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pieces_widget' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DownloadJob",
    "DownloadProgress",
    "Model",
    "ModelManager",
    "ModelNotFoundError",
    "PiecesClient",
    "PiecesConnectionError",
    "PiecesError",
    "PiecesServerError",
    "PiecesTimeoutError",
    "Summary",
    "__version__",
]
