"""Errors of pieces-widget: each says, in one line, what happened and what to do."""

from __future__ import annotations


class PiecesError(Exception):
    """Base class of every error this package raises about Pieces OS."""


class PiecesConnectionError(PiecesError):
    """Pieces OS is not running or not reachable (discovery or the connection failed)."""


class PiecesTimeoutError(PiecesConnectionError):
    """Pieces OS did not answer in time."""


class ModelNotFoundError(PiecesError):
    """The model id is unknown to Pieces OS (HTTP 410)."""

    def __init__(self, model_id: str) -> None:
        super().__init__(f"model {model_id!r} was not found: check the id against client.models()")
        self.model_id = model_id


class PiecesServerError(PiecesError):
    """Pieces OS answered with an error status; ``status`` and the server's ``text`` are kept."""

    def __init__(self, status: int, text: str, message: str | None = None) -> None:
        text = " ".join(text.split())[:300]
        super().__init__(message or f"Pieces OS answered HTTP {status}: {text or '(no text)'}")
        self.status = status
        self.text = text
