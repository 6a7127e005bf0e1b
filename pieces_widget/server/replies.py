"""What the handlers share: one-line plain-text error replies, and the request's JSON body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from .bodies import BodyProblem, parse_body
from .fields import MAX_BODY
from .sources import disk_error


def text_error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message, content_type="text/plain")


def not_found(model_id: str) -> web.Response:
    return text_error(410, f"model {model_id!r} was not found")


def use_post() -> web.Response:
    return text_error(405, "use POST")


def disk_reason(exc: OSError, data_dir: Path) -> str:
    """``exc`` in plain words, naming the folder of the file that failed (else ``data_dir``)."""
    where = Path(exc.filename).parent if isinstance(exc.filename, str) else data_dir
    return disk_error(exc, str(where))


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.response = text_error(status, message)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, at most ``MAX_BODY`` bytes (``BodyError`` otherwise)."""
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise BodyError(400, f"the body is too large: {len(raw)} bytes, at most {MAX_BODY}")
    try:
        return parse_body(raw)
    except BodyProblem as exc:
        raise BodyError(400, str(exc)) from None
