"""Live truth about the connection: the banner's words and the manager's connection side
(``ConnectionWatch``): refresh, the health watch (a ``Ticker``), the Ollama runtime."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ..core.errors import PiecesConnectionError, PiecesError, PiecesTimeoutError
from ..core.models import Model
from ..core.runtime import RuntimeInstall
from ..core.runtime_status import RuntimeInfo, runtime_info
from ..core.summary import machine_resources
from .background import Background, Ticker
from .wire import Connection

HEALTH_TIMEOUT = (1.0, 3.0)  # s (connect, whole call) for the watch's health check

log = logging.getLogger("pieces_widget.watch")


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


def server_kind(capabilities: dict[str, Any]) -> str:
    """ "reference" for pieces_widget.server (its capabilities name it), else "pieces-os"."""
    return "reference" if capabilities.get("server") == "pieces-widget-reference" else "pieces-os"


def connection_state(state: str, base_url: str, version: str, message: str) -> Connection:
    return {"state": state, "base_url": base_url, "version": version, "message": message}  # type: ignore[typeddict-item]


class ConnectionWatch(Background):
    """The ModelManager's connection side: the list and the banner refreshed, the health watch
    that runs while a view is on the page, and the Ollama runtime's state (a mixin: the state
    it uses is the manager's)."""

    _last_capabilities: dict[str, Any]
    _views: set[str]
    _watch_interval: float | None

    _watch_download: Callable[[str], None]  # Downloads': follow a download started elsewhere

    # -- connection --------------------------------------------------------------------------
    def refresh(self) -> concurrent.futures.Future[list[Model]]:
        """Reload the model list (and reconnect) in the background."""
        return self._background(self._refresh)

    def _refresh(self) -> list[Model]:
        try:
            version = self.client.version()
            capabilities = self.client.capabilities()
            ticket = self._state.ticket()
            models = self.client.models()
        except PiecesError as exc:
            self._disconnected(exc)
            raise
        self._last_capabilities = capabilities
        self._refresh_runtime()
        reconnected = self._state.get("connection")["state"] != "connected"
        self._state.set_models([m.raw for m in models], ticket)
        self._state.set(
            connection=connection_state(
                "connected",
                self._base_url(),
                version,
                connected_message(version, server_kind(capabilities), self._base_url()),
            ),
            _capabilities={"sources": capabilities.get("sources") is True},
            _resources=machine_resources(capabilities),
        )
        if reconnected:  # row alerts and the last error end when the connection comes back
            self._state.set(_row_errors={}, error="")
        for model in models:
            if model.downloading and not self._closed:
                self._watch_download(model.id)
        return models

    def _refresh_runtime(self) -> None:
        """The Ollama runtime's state now (an install in flight reports its own)."""
        if self._install is not None and not self._install.done:
            return
        try:
            self._state.set(runtime=runtime_info(self.client.ollama_status()))
        except PiecesError as exc:  # the list still shows; the runtime is said when it answers
            log.info("Ollama status: %s", exc)

    def install_runtime(self) -> RuntimeInstall:
        """Ask Pieces OS to install Ollama, which local models run on (Pieces OS 11+), or to
        update it where the runtime reads ``update-required``; returns at once: ``.wait()``
        gives the final status, the ``runtime`` trait shows the progress."""
        self._ensure_open()
        if self._install is not None and not self._install.done:
            return self._install
        kind = "update" if self._state.get("runtime").get("offer") == "update" else "install"
        self._install = RuntimeInstall(self.client, kind=kind, on_update=self._on_runtime)
        return self._install

    def _on_runtime(self, info: RuntimeInfo) -> None:
        self._state.set(runtime=info)
        if info["state"] == "installed" and not self._closed:  # local models can download now
            self._spawn(lambda: self.refresh())

    def _disconnected(self, exc: PiecesError) -> None:
        base_url = self._base_url()
        state = "unreachable" if isinstance(exc, PiecesConnectionError) else "error"
        self._state.set(
            connection=connection_state(state, base_url, "", connection_message(exc, base_url)),
            error=str(exc),
        )

    def _check_connection(self) -> None:
        """The watch's tick: a cheap health check; a full refresh when the state changed or to
        pick up other clients' changes (the writer sends only what differs)."""
        if self._closed:
            return
        try:
            self.client.health(timeout=HEALTH_TIMEOUT)
        except PiecesError as exc:
            self._disconnected(exc)
            return
        with contextlib.suppress(PiecesError):
            self._refresh()

    def _base_url(self) -> str:
        try:
            return self.client.base_url
        except PiecesError:
            return ""

    # -- the health watch: runs while a view is on the page --------------------------------
    def _on_view(self, view_id: Any, is_open: bool) -> None:
        if not isinstance(view_id, str) or self._closed:
            return
        if is_open:
            self._views.add(view_id)
        else:
            self._views.discard(view_id)
        if self._views and self._watch is None and self._watch_interval is not None:
            self._watch = Ticker(
                self._check_connection, self._watch_interval, "pieces-widget-watch"
            )
        elif not self._views and self._watch is not None:
            self._watch.stop(timeout=0)  # never block the kernel: it ends after this tick
            self._watch = None
