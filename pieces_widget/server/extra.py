"""What the reference server needs beyond the package: the ``server`` extra. A missing module
of that extra is one line that says what to install, never a traceback; any other missing
module is a real error and stays one."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

MODULES = frozenset({"aiohttp", "filelock"})  # the server extra's, in pyproject.toml
INSTALL = "pip install 'pieces-widget[server]'"


def missing_extra(exc: ImportError) -> str | None:
    """The message for ``exc`` when it is a module of the extra that is missing, else None."""
    name = (exc.name or "").partition(".")[0]
    if name not in MODULES:
        return None
    return f"the reference server needs the server extra ({name} is not installed): {INSTALL}"


@contextlib.contextmanager
def exit_if_missing() -> Iterator[None]:
    """Around the server's imports: exit (status 1) with one line when the extra is missing,
    worded like the server's other start-up errors."""
    try:
        yield
    except ImportError as exc:
        message = missing_extra(exc)
        if message is None:
            raise
        sys.exit(f"error: {message}")
