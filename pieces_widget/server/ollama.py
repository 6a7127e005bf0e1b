"""The Ollama runtime as Pieces OS 11+ manages it: local models run on Ollama, which Pieces OS
installs, updates and uninstalls through its own API. Installed by default; with
``installed=False`` (``--without-ollama``) local models are blocked until an install has run: a
real transfer of a runtime file from the server's own hub into ``<data dir>/ollama/``, where the
installed state persists. An update is the same transfer of the newer version's file (the old
runtime stays until it is whole); an uninstall deletes the runtime and blocks local models again.

JSON shapes follow the spec's ``OllamaStatus`` and ``OllamaDeployment``; a failed install
carries an ``error`` extra field, like a failed model download.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.models import CANCELED, COMPLETED, FAILED, INITIALIZED
from .catalog import Source
from .hub import ensure_blob
from .sources import SourceOptions, disk_error
from .store import atomic_write_json
from .transfer import Transfer
from .transfers import Transfers

log = logging.getLogger("pieces_widget.server")
OLLAMA_VERSION = "0.6.2"
RUNTIME_BYTES = 8 << 20
MISSING = (
    "Ollama is not installed: local models run on Ollama; install it first (POST /ollama/install)"
)
_KEY = "ollama"  # the install's key in its own Transfers (never shared with model ids)
INSTALL, UPDATE = "install", "update"


class RuntimeRefusal(Exception):
    """Why an update or uninstall cannot start now, in one line (a 500 with this text)."""


@dataclass(frozen=True)
class OllamaOptions:
    installed: bool = True
    """False (``--without-ollama``): start with no installation, as a fresh Pieces OS 11 may;
    the Pieces support tracker reports "all models are blocked" without it."""

    update_required: str | None = None
    """A version an update to is required (``updateRequired`` in the status)."""

    version: str = OLLAMA_VERSION  # the version installed at start
    runtime_bytes: int = RUNTIME_BYTES


@dataclass
class Deployment:
    """One install, as ``OllamaDeployment`` JSON."""

    id: str
    version: str
    status: str = INITIALIZED
    percentage: float | None = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "version": self.version, "status": self.status}
        if self.percentage is not None:
            body["percentage"] = self.percentage
        if self.error is not None:
            body["error"] = self.error
        return body


class OllamaRuntime:
    """Installed or not, the install in flight, this session's installs, and who to tell."""

    def __init__(self, data_dir: Path, options: OllamaOptions, sources: SourceOptions) -> None:
        self.options = options
        self.dir = data_dir / "ollama"
        self.hub_dir = data_dir / "hub"
        self.blob = f"ollama-runtime-{self.latest}.bin"
        self.installation = self._read_installation()
        if self.installation is None and options.installed and not self._uninstalled:
            default_id = str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"pieces-widget/ollama/{options.version}")
            )
            self.installation = Deployment(default_id, options.version, COMPLETED, None)
        self.installing: Deployment | None = None
        self.updating: Deployment | None = None
        self.deployments: dict[str, Deployment] = {}  # this session's installs, by id
        self.updates: dict[str, Deployment] = {}  # this session's updates, by id
        self.on_uninstall: Callable[[], None] | None = None  # the server unloads local models
        self._sources = sources
        self._transfers: Transfers | None = None
        self._task: asyncio.Task[None] | None = None
        self._watchers: set[asyncio.Event] = set()

    @property
    def latest(self) -> str:
        """The version an install puts in place."""
        return self.options.update_required or self.options.version

    @property
    def _record(self) -> Path:
        return self.dir / "installation.json"

    @property
    def _runtime(self) -> Path:
        return self.dir / "runtime.bin"

    @property
    def _uninstalled(self) -> bool:
        """An uninstall ran here: the default installation does not come back on a restart."""
        with contextlib.suppress(OSError, ValueError):
            return json.loads(self._record.read_text(encoding="utf-8")) == {"uninstalled": True}
        return False

    def _read_installation(self) -> Deployment | None:
        """The installation an earlier install left in the data directory, if whole."""
        try:
            record = json.loads(self._record.read_text(encoding="utf-8"))
            size = self._runtime.stat().st_size
        except (OSError, ValueError):
            return None
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("id"), str)
            or not isinstance(record.get("version"), str)
            or size != self.options.runtime_bytes
        ):
            return None
        return Deployment(record["id"], record["version"], COMPLETED, None)

    @property
    def installed(self) -> bool:
        return self.installation is not None

    def status_json(self) -> dict[str, Any]:
        """``OllamaStatus``."""
        status: dict[str, Any] = {}
        if self.installation is not None:
            status["installation"] = self.installation.to_json()
            required = self.options.update_required
            if required is not None and self.installation.version != required:
                status["updateRequired"] = {"version": required, "userManaged": False}
        if self.installing is not None:
            status["installing"] = self.installing.to_json()
        if self.updating is not None:
            status["updating"] = self.updating.to_json()
        return status

    def watch(self) -> asyncio.Event:
        event = asyncio.Event()
        event.set()  # the current state is news to a new watcher
        self._watchers.add(event)
        return event

    def unwatch(self, event: asyncio.Event) -> None:
        self._watchers.discard(event)

    def _changed(self) -> None:
        for event in self._watchers:
            event.set()

    def install(self, server_url: str) -> Deployment:
        """Start an install (or return the one in flight, or the installation)."""
        if self.installation is not None:
            return self.installation
        if self.installing is not None:
            return self.installing
        deployment = Deployment(str(uuid.uuid4()), self.latest)
        self.deployments[deployment.id] = self.installing = deployment
        self._start(deployment, server_url, INSTALL)
        return deployment

    def update(self, server_url: str, version: str | None) -> Deployment:
        """Start an update to ``version`` (the latest when None), or return the one in flight,
        or the installation when it already is that version. ``RuntimeRefusal`` when Ollama is
        not installed (or being installed) or ``version`` is not the one this server offers."""
        if self.updating is not None:
            return self.updating
        if self.installation is None:
            raise RuntimeRefusal(
                "Ollama is not installed: there is nothing to update; install it (POST "
                "/ollama/install)"
            )
        if version is not None and version != self.latest:
            raise RuntimeRefusal(
                f"cannot update Ollama to {version[:40]!r}: the version available is {self.latest}"
            )
        if self.installation.version == self.latest:
            return self.installation
        deployment = Deployment(str(uuid.uuid4()), self.latest)
        self.updates[deployment.id] = self.updating = deployment
        self._start(deployment, server_url, UPDATE)
        return deployment

    def uninstall(self, installation_id: str | None) -> Deployment:
        """Delete the installation (``installation_id``, when given, must name it): local
        models are blocked again. ``RuntimeRefusal`` when none is there or one is changing."""
        installation = self.installation
        running = self.installing or self.updating
        if running is not None:
            raise RuntimeRefusal(
                f"Ollama is being {'installed' if running is self.installing else 'updated'} "
                f"({running.id}): wait for it to end or cancel it, then uninstall"
            )
        if installation is None:
            raise RuntimeRefusal("Ollama is not installed: there is nothing to uninstall")
        if installation_id is not None and installation_id != installation.id:
            raise KeyError(installation_id)
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self._record, {"uninstalled": True})
        with contextlib.suppress(FileNotFoundError):
            self._runtime.unlink()
        self.installation = None
        if self.on_uninstall is not None:
            self.on_uninstall()
        self._changed()
        return installation

    def _start(self, deployment: Deployment, server_url: str, kind: str) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(deployment, server_url, kind))
        self._changed()

    async def cancel(self, deployment: Deployment) -> None:
        """Stop ``deployment`` if it runs, and wait until it has."""
        task = self._task
        if deployment in (self.installing, self.updating) and task is not None:
            task.cancel()
            await asyncio.wait([task])

    async def _run(self, deployment: Deployment, server_url: str, kind: str) -> None:
        transfer: Transfer | None = None
        try:
            size = self.options.runtime_bytes
            digest = await asyncio.get_running_loop().run_in_executor(
                None, ensure_blob, self.hub_dir, self.blob, size
            )
            self.dir.mkdir(exist_ok=True)
            source = Source(f"{server_url}/hub/{self.blob}", digest, size)
            transfer = self.transfers.start(_KEY, source, self.dir / "runtime.part", self._runtime)
            await self._follow(deployment, transfer, kind)
            if transfer.status == COMPLETED:
                atomic_write_json(
                    self._record, {"id": deployment.id, "version": deployment.version}
                )
                self.installation = Deployment(deployment.id, deployment.version, COMPLETED, None)
        except asyncio.CancelledError:
            if transfer is not None:
                await transfer.cancel()
                self._mirror(deployment, transfer, kind)
            deployment.status = CANCELED
        except OSError as exc:
            deployment.status = FAILED
            deployment.error = f"cannot {kind} Ollama: {disk_error(exc, str(self.dir))}"
            log.warning("%s", deployment.error)
        finally:
            if kind == INSTALL:
                self.installing = None
            else:
                self.updating = None
            self._task = None
            self._changed()

    async def _follow(self, deployment: Deployment, transfer: Transfer, kind: str) -> None:
        """Mirror the transfer's progress into ``deployment`` until it ends."""
        changed = transfer.watch()
        try:
            while True:
                changed.clear()
                self._mirror(deployment, transfer, kind)
                self._changed()
                if transfer.done:
                    return
                await changed.wait()
        finally:
            transfer.unwatch(changed)

    @staticmethod
    def _mirror(deployment: Deployment, transfer: Transfer, kind: str) -> None:
        frame = transfer.frame()
        deployment.status = frame["status"]
        deployment.percentage = frame.get("percentage")
        if transfer.status == FAILED:
            deployment.error = f"cannot {kind} Ollama: {transfer.error}"

    @property
    def transfers(self) -> Transfers:
        if self._transfers is None:
            self._transfers = Transfers(self._sources)
        return self._transfers

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([self._task])
        if self._transfers is not None:
            await self._transfers.close()
