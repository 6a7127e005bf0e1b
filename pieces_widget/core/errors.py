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


# What an error status means, said as a person would; the status itself is for logs and -v.
_STATUS_WORDS = {
    400: "refused the request",
    403: "refused the request",
    404: "does not know this request (is it an older Pieces OS?)",
    409: "refused: the model is busy with something else",
    500: "failed",
    502: "is not ready: retry in a moment",
    503: "is not ready: retry in a moment",
    504: "is not ready: retry in a moment",
}


def status_words(status: int) -> str:
    """``500`` -> ``"failed"``: what Pieces OS answering ``status`` means, without the code."""
    return _STATUS_WORDS.get(status, "answered with an error")


class PiecesServerError(PiecesError):
    """Pieces OS answered with an error status; ``status`` and the server's ``text`` are kept
    (the CLI logs the status with -v); the message says it in words, without the code."""

    def __init__(self, status: int, text: str, message: str | None = None) -> None:
        text = " ".join(text.split())[:300]
        words = f"Pieces OS {status_words(status)}"
        super().__init__(message or (f"{words}: {text}" if text else words))
        self.status = status
        self.text = text
