"""Live truth about the connection: a thread that calls ``check`` every ``interval`` seconds
until stopped (no thread at all once stopped), and the banner's words."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..core.errors import PiecesConnectionError, PiecesError, PiecesTimeoutError

log = logging.getLogger("pieces_widget.watch")


class Ticker:
    def __init__(self, check: Callable[[], None], interval: float, name: str) -> None:
        self._check = check
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():  # at once (a view just opened), then every interval
            try:
                self._check()
            except Exception:  # the watch must outlive any one bad answer
                log.exception("connection check failed")
            if self._stop.wait(self._interval):
                return

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread; wait up to ``timeout`` s for a check in progress (0: do not wait)."""
        self._stop.set()
        if timeout and self._thread is not threading.current_thread():
            self._thread.join(timeout)


# The oldest Pieces OS whose Model API this package follows: the Python SDK was regenerated "for
# pos 10.0.0" (pieces-os-client-sdk-for-python#26); older versions may lack routes we call.
OLDEST_PIECES_OS = (10, 0, 0)


def _version_tuple(version: str) -> tuple[int, ...] | None:
    parts = version.strip().lstrip("vV").split("-")[0].split(".")
    try:
        return tuple(int(p) for p in parts[:3])
    except ValueError:
        return None


def connected_message(version: str, server: str, where: str) -> str:
    """The banner while connected: which server (ours says "reference server"), its version,
    the whole URL; a Pieces OS older than ``OLDEST_PIECES_OS`` is named with what is needed."""
    if server == "reference":
        return f"Connected to the pieces-widget reference server at {where}"
    found = _version_tuple(version)
    named = f"Pieces OS {version}".strip() if version else "Pieces OS"
    if found is not None and found < OLDEST_PIECES_OS:
        oldest = ".".join(map(str, OLDEST_PIECES_OS))
        return (
            f"Connected to {named} at {where}; this widget needs Pieces OS {oldest} or newer: "
            "some actions may fail until you update Pieces OS"
        )
    return f"Connected to {named} at {where}"


def connection_message(exc: PiecesError, where: str) -> str:
    """One plain sentence for the banner (the exception's own text stays in ``error``); ``where``
    is the base URL, written whole as the connected banner and every error message write it."""
    if isinstance(exc, PiecesTimeoutError):
        return f"Pieces OS at {where} is too slow to answer. Is it busy or stuck?"
    if isinstance(exc, PiecesConnectionError):
        if not where:
            return "Can't find Pieces OS on this machine. Is it running? (or set PIECES_OS_URL)"
        return f"Can't reach Pieces OS at {where}. Is it running?"
    return str(exc)
