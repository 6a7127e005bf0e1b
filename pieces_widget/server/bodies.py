"""Request bodies as JSON the handlers can trust: bounded depth and numbers, real Unicode.

Python's decoder accepts what the handlers must never see: nesting deep enough to raise
``RecursionError`` (here, or later in ``json.dumps``), integers of thousands of digits (their
``str()`` raises ``ValueError`` above 4,300), ``NaN`` / ``Infinity``, and lone surrogates
(``"\\ud800"``) that no UTF-8 encoder can write back. Each is a one-line ``BodyProblem``.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # a Model body nests 3 deep
MAX_DIGITS = 20  # an integer field here is at most 1e15 (or a size, at most 2**50)


class BodyProblem(ValueError):
    """Why a body is refused, in one line."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BodyProblem(f"a number in the body has more than {MAX_DIGITS} digits")
    return int(text)


def _constant(name: str) -> Any:
    raise BodyProblem(f"malformed JSON body: {name} is not a JSON number")


def parse_body(raw: bytes) -> Any:
    """``raw`` as JSON, or ``BodyProblem``."""
    try:
        value = json.loads(raw, parse_int=_int, parse_constant=_constant)
    except BodyProblem:
        raise
    except RecursionError:
        raise BodyProblem(f"the body is nested too deep: more than {MAX_DEPTH} levels") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BodyProblem(f"malformed JSON body: {exc}") from None
    except ValueError as exc:  # anything else the decoder refuses
        raise BodyProblem(f"malformed JSON body: {str(exc)[:120]}") from None
    _check(value)
    return value


def _check(value: Any) -> None:
    """Depth and text, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise BodyProblem(f"the body is nested too deep: more than {MAX_DEPTH} levels")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _text(key)
                stack.append((child, depth + 1))


def _text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyProblem(
            "the body has text that is not valid Unicode (a lone surrogate such as \\ud800)"
        ) from None
