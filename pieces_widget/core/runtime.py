"""The Ollama runtime of Pieces OS 11+: an install (or update) followed to its end; its state in
words is ``runtime_status``.

Since Pieces OS 11 local models run on Ollama, which Pieces OS installs and updates through its
own API (``/ollama/status``, ``/ollama/install``...; schemas ``OllamaStatus`` and
``OllamaDeployment``). While it is missing local models cannot run. An older Pieces OS has no
such routes (404): then the state is ``none`` and nothing is shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from .errors import PiecesError, PiecesServerError
from .models import CANCELED, COMPLETED, FAILED, TERMINAL_STATUSES, clamp_percentage
from .numbers import readable_percent
from .runtime_status import RuntimeInfo, deployment_of, one_line, runtime_info
from .runtime_stream import RuntimeTiming, StatusSocket

if TYPE_CHECKING:
    from .client import PiecesClient

log = logging.getLogger("pieces_widget.runtime")

Kind = Literal["install", "update"]
_RUNNING_KEY = {"install": "installing", "update": "updating"}


class RuntimeInstall:
    """An Ollama install (or ``kind="update"``) started on the server, followed in a thread
    until it ends: through the status socket (``/ollama/status/stream``), polling
    ``/ollama/status`` and the deployment while no socket can be had.

    Returns at once: the POST runs in the thread too, and a refusal ends it FAILED with the
    reason. ``on_update(info)`` gets the runtime's state on every change; ``wait()`` returns the
    final deployment status (COMPLETED, FAILED or CANCELED); ``source`` says what told the last
    state ("stream" or "polling").
    """

    def __init__(
        self,
        client: PiecesClient,
        *,
        kind: Kind = "install",
        version: str | None = None,
        on_update: Callable[[RuntimeInfo], None] | None = None,
        poll_every: float | None = None,
        timing: RuntimeTiming | None = None,
    ) -> None:
        self.client = client
        self.kind: Kind = kind
        self.status = "INITIALIZED"
        self.percentage: float | None = None
        self.error: str | None = None
        self.id: str | None = None
        self.version = version  # the version asked for (an update; None: the one required)
        self.source = ""
        timing = timing or RuntimeTiming()
        if poll_every is not None:
            timing = replace(timing, poll_every=poll_every)
        self.timing = timing
        self._on_update = on_update
        self._done = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cancel_wanted = self._cancel_sent = False
        self._reconciled = 0.0  # the last look (GET status and deployment)
        self._look_due = False  # a frame said it no longer runs: ask how it ended
        self.socket = StatusSocket(client, self._on_frame, self._on_quiet, self._finished, timing)
        self._thread = threading.Thread(target=self._run, name="pieces-runtime", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> str:
        if not self._done.wait(timeout):
            raise TimeoutError(f"the Ollama {self.kind} is still {self.status} after {timeout} s")
        return self.status

    def wait_briefly(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the end; True when it ended."""
        return self._done.wait(seconds)

    def cancel(self) -> None:
        """Ask Pieces OS to cancel (returns at once; the follower thread sends it)."""
        if not self.done:
            self._cancel_wanted = True
            self._wake.set()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop following (the install itself goes on in Pieces OS): the socket is shut and a
        request in flight is cut."""
        self._stop.set()
        self._wake.set()
        self.socket.shutdown()
        self.client.interrupt([self._thread])
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _finished(self) -> bool:
        return self._done.is_set() or self._stop.is_set()

    def _run(self) -> None:
        try:
            if not self._begin():
                return
            retry_at = 0.0
            while not self._finished():
                self._send_cancel()
                if not self.socket.problem and time.monotonic() >= retry_at:
                    self.socket.run()
                    retry_at = time.monotonic() + self.timing.retry_socket_every
                    if self._finished():
                        return
                self._look()
                if not self._finished() and self._wake.wait(self.timing.poll_every):
                    self._wake.clear()
        except Exception as exc:  # never silent: the install reads FAILED with the reason
            log.exception("following the Ollama %s failed", self.kind)
            self._end(FAILED, f"unexpected error: {exc}")

    def _begin(self) -> bool:
        """The POST that starts it; False when it is over already."""
        try:
            if self.kind == "update":
                deployment = self.client.update_ollama(self.version)
            else:
                deployment = self.client.install_ollama()
        except PiecesError as exc:
            if not self._stop.is_set():  # stopped: the POST was cut, not refused
                self._end(FAILED, str(exc))
            return False
        self.id = deployment.get("id") if isinstance(deployment.get("id"), str) else None
        target = deployment.get("version")
        self.version = target if isinstance(target, str) else self.version
        final = deployment.get("status")
        if final in TERMINAL_STATUSES:  # e.g. the installation: there was nothing to do
            self._look()
            self._end(str(final), one_line(deployment.get("error")) or None)
        return not self.done

    # -- what the server says ----------------------------------------------------------------
    def _on_frame(self, status: dict[str, Any]) -> None:
        self._send_cancel()
        self.source = "stream"
        self._take(status, None, gone=False, asked=False)
        self._ask_if_due()

    def _on_quiet(self) -> None:
        """The socket is quiet: send a wanted cancel; now and then ask how the install is."""
        self._send_cancel()
        if time.monotonic() - self._reconciled > self.timing.reconcile_every:
            self._look(source="stream")
        self._ask_if_due()

    def _ask_if_due(self) -> None:
        """Ask how it ended, at most once per ``poll_every`` (frames can come in floods)."""
        if self._look_due and time.monotonic() - self._reconciled >= self.timing.poll_every:
            self._look(source="stream")

    def _look(self, source: str = "polling") -> None:
        """Ask: ``GET /ollama/status`` and the deployment (``GET /ollama/install/{id}``)."""
        self._reconciled = time.monotonic()
        deployment: Mapping[str, Any] | None = None
        gone = False
        # the deployment first, then the status: a status read after a finished deployment shows
        # its end (read the other way round, "installing" could be the last word of a done install)
        try:
            if self.id is not None:
                try:
                    deployment = self._snapshot(self.id)
                except PiecesServerError as exc:
                    if exc.status != 410:
                        raise
                    gone = True  # Pieces OS no longer knows it (restarted?): the status must say
            status = self.client.ollama_status() or {}
        except PiecesError as exc:
            log.info("Ollama %s: %s", self.kind, exc)
            return  # unreachable for a moment: the next look tells
        self.source, self._look_due = source, False
        self._take(status, deployment, gone=gone, asked=True)

    def _snapshot(self, deployment_id: str) -> dict[str, Any]:
        if self.kind == "update":
            return self.client.ollama_update(deployment_id)
        return self.client.ollama_install(deployment_id)

    def _take(
        self,
        status: Mapping[str, Any],
        deployment: Mapping[str, Any] | None,
        *,
        gone: bool,
        asked: bool,
    ) -> None:
        if self._finished():
            return
        info = runtime_info(status)
        if self._on_update is not None:
            self._on_update(info)
        running = deployment if deployment is not None else self._mine(status)
        final = running.get("status") if running is not None else None
        if final in TERMINAL_STATUSES:
            self._end(str(final), one_line(running.get("error")) if running else None)
        elif running is not None:
            self.percentage = clamp_percentage(running.get("percentage"))
            self.status = "IN-PROGRESS"
        elif self._landed(status):
            self._end(COMPLETED, None)
        elif not asked:
            self._look_due = True  # no longer running, not in place: how did it end?
        elif gone and deployment_of(status, _RUNNING_KEY[self.kind]) is None:
            self._end(FAILED, f"Pieces OS no longer knows this Ollama {self.kind} (restarted?)")

    def _mine(self, status: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """This deployment in the status (under ``installing`` or ``updating``), if there."""
        running = deployment_of(status, _RUNNING_KEY[self.kind])
        if running is None or (self.id is not None and running.get("id") != self.id):
            return None
        return running

    def _landed(self, status: Mapping[str, Any]) -> bool:
        """The installation is in place (for an update: this deployment's version or id)."""
        installation = deployment_of(status, "installation")
        if installation is None:
            return False
        if self.kind == "install":
            return True
        return installation.get("id") == self.id or (
            self.version is not None and installation.get("version") == self.version
        )

    def _send_cancel(self) -> None:
        if not self._cancel_wanted or self._cancel_sent or self.id is None or self.done:
            return
        self._cancel_sent = True
        try:
            if self.kind == "update":
                answer = self.client.cancel_ollama_update(self.id)
            else:
                answer = self.client.cancel_ollama_install(self.id)
        except PiecesError as exc:
            log.info("canceling the Ollama %s: %s", self.kind, exc)
            self._cancel_sent = False  # asked again on the next look
            return
        if answer.get("status") in TERMINAL_STATUSES:
            self._end(str(answer["status"]), one_line(answer.get("error")) or None)

    def _end(self, status: str, error: str | None) -> None:
        if self.done:
            return
        self.status, self.error = status, error or None
        if status == COMPLETED:
            self.percentage = 100.0
        elif status == CANCELED:
            self.error = None
        self._done.set()
        self._wake.set()

    def __repr__(self) -> str:
        pct = "" if self.percentage is None else f" {readable_percent(self.percentage)}"
        return f"<RuntimeInstall {self.kind} {self.status}{pct}>"
