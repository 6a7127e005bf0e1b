"""The Ollama runtime of Pieces OS 11+: its state in words, and an install followed to its end.

Since Pieces OS 11 local models run on Ollama, which Pieces OS installs and updates through its
own API (``/ollama/status``, ``/ollama/install``...; schemas ``OllamaStatus`` and
``OllamaDeployment``). While it is missing local models cannot run. An older Pieces OS has no
such routes (404): then the state is ``none`` and nothing is shown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .errors import PiecesError
from .models import CANCELED, COMPLETED, FAILED, TERMINAL_STATUSES, clamp_percentage
from .numbers import readable_percent

if TYPE_CHECKING:
    from .client import PiecesClient

log = logging.getLogger("pieces_widget.runtime")

RuntimeState = Literal["installed", "missing", "installing", "update-required", "failed", "none"]
BLOCKING_STATES = frozenset({"missing", "update-required", "installing", "failed"})


class RuntimeInfo(TypedDict):
    """The runtime as people read it (the widget's ``runtime`` trait, the CLI's status line)."""

    state: RuntimeState
    version: str  # the installed version ("" when none)
    percentage: float | None  # an install or update in progress, 0-100
    message: str  # one line for people ("" when nothing needs saying)


NO_API: RuntimeInfo = {"state": "none", "version": "", "percentage": None, "message": ""}
MISSING = "Local models run on Ollama, which is not installed."


def _deployment(status: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = status.get(key)
    return value if isinstance(value, Mapping) else None


def _text(value: Any) -> str:
    return " ".join(value.split())[:200] if isinstance(value, str) else ""


def runtime_info(status: Mapping[str, Any] | None) -> RuntimeInfo:
    """``OllamaStatus`` JSON (None: this Pieces OS has no Ollama API) -> ``RuntimeInfo``."""
    if status is None:
        return NO_API
    installation = _deployment(status, "installation")
    version = _text(installation.get("version")) if installation else ""
    for key, verb in (("installing", "Installing"), ("updating", "Updating")):
        running = _deployment(status, key)
        if running is None:
            continue
        if running.get("status") == FAILED:
            why = _text(running.get("error")) or "Pieces OS gave no reason"
            return _info("failed", version, None, f"The Ollama install failed: {why}.")
        percentage = clamp_percentage(running.get("percentage"))
        done = "" if percentage is None else f" ({readable_percent(percentage)})"
        return _info("installing", version, percentage, f"{verb} Ollama{done}…")
    required = _deployment(status, "updateRequired")
    if required is not None:
        needed = _text(required.get("version")) or "a newer version"
        have = f" {version}" if version else ""
        if required.get("userManaged") is True:
            act = "update it yourself (Pieces OS cannot)"
        else:
            act = "Pieces OS can update it"
        return _info(
            "update-required", version, None, f"Ollama{have} needs an update to {needed}: {act}."
        )
    if installation is None:
        return _info("missing", "", None, MISSING)
    return _info("installed", version, None, "")


def _info(state: RuntimeState, version: str, pct: float | None, message: str) -> RuntimeInfo:
    return {"state": state, "version": version, "percentage": pct, "message": message}


class RuntimeInstall:
    """An Ollama install started on the server, followed in a thread until it ends.

    ``on_update(info)`` gets the runtime's state on every change; ``wait()`` returns the final
    deployment status (COMPLETED, FAILED or CANCELED).
    """

    def __init__(
        self,
        client: PiecesClient,
        *,
        on_update: Callable[[RuntimeInfo], None] | None = None,
        poll_every: float = 0.5,
    ) -> None:
        self.client = client
        self.status = "INITIALIZED"
        self.percentage: float | None = None
        self.error: str | None = None
        self._on_update = on_update
        self._poll_every = poll_every
        self._done = threading.Event()
        self._stop = threading.Event()
        deployment = client.install_ollama()  # raises at once when the server refuses
        self.id = deployment.get("id") if isinstance(deployment.get("id"), str) else None
        self._thread = threading.Thread(target=self._run, name="pieces-runtime", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> str:
        if not self._done.wait(timeout):
            raise TimeoutError(f"the Ollama install is still {self.status} after {timeout} s")
        return self.status

    def wait_briefly(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the end; True when it ended."""
        return self._done.wait(seconds)

    def cancel(self) -> None:
        if self.id is not None and not self.done:
            self.client.cancel_ollama_install(self.id)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop following (the install itself goes on in Pieces OS); a request in flight is cut."""
        self._stop.set()
        self.client.interrupt([self._thread])
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._look()
                if self.done or self._stop.wait(self._poll_every):
                    return
        except Exception as exc:  # never silent: the install reads FAILED with the reason
            log.exception("following the Ollama install failed")
            self._end(FAILED, f"unexpected error: {exc}")

    def _look(self) -> None:
        try:
            status = self.client.ollama_status()
            deployment = self.client.ollama_install(self.id) if self.id else None
        except PiecesError as exc:
            log.info("Ollama install: %s", exc)
            return  # unreachable for a moment: the next look tells
        info = runtime_info(status)
        if self._on_update is not None:
            self._on_update(info)
        final = deployment.get("status") if deployment else None
        if final in TERMINAL_STATUSES:
            self._end(str(final), _text(deployment.get("error")) or None if deployment else None)
        elif deployment is None and info["state"] == "installed":
            self._end(COMPLETED, None)
        else:
            self.percentage = info["percentage"]
            self.status = "IN-PROGRESS"

    def _end(self, status: str, error: str | None) -> None:
        self.status, self.error = status, error
        if status == COMPLETED:
            self.percentage = 100.0
        elif status == CANCELED:
            self.error = None
        self._done.set()

    def __repr__(self) -> str:
        pct = "" if self.percentage is None else f" {readable_percent(self.percentage)}"
        return f"<RuntimeInstall {self.status}{pct}>"
