"""Live truth about the connection: a thread that calls ``check`` every ``interval`` seconds
until stopped (no thread at all once stopped), and the banner's words for a failure."""

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

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread; wait up to ``timeout`` s for a check in progress (0: do not wait)."""
        self._stop.set()
        if timeout and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def connection_message(exc: PiecesError, where: str) -> str:
    """One plain sentence for the banner (the exception's own text stays in ``error``); ``where``
    is the base URL, written whole as the connected banner and every error message write it."""
    if isinstance(exc, PiecesTimeoutError):
        return f"Pieces OS at {where} is not answering. Is it busy or stuck?"
    if isinstance(exc, PiecesConnectionError):
        if not where:
            return "Can't find Pieces OS on this machine. Is it running? (or set PIECES_OS_URL)"
        return f"Can't reach Pieces OS at {where}. Is it running?"
    return str(exc)
