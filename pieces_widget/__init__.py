"""pieces-widget: manage the local AI models of Pieces OS from a Jupyter cell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .client import PiecesClient
from .errors import (
    ModelNotFoundError,
    PiecesConnectionError,
    PiecesError,
    PiecesServerError,
    PiecesTimeoutError,
)
from .jobs import DownloadJob
from .models import DownloadProgress, Model

if TYPE_CHECKING:
    from .widget import ModelManager


def __getattr__(name: str) -> Any:
    # The widget pulls in anywidget/ipywidgets: import it only when asked for.
    if name == "ModelManager":
        from .widget import ModelManager

        return ModelManager
    raise AttributeError(name)


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
    "__version__",
]
