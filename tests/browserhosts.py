"""The notebook hosts the browser tests and benchmarks drive (DESIGN.md 7): JupyterLab,
Notebook 7 and marimo as child processes on 127.0.0.1 with a token and throwaway settings,
and Debian's Chromium to look at them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
IDLE = "Python 3 (ipykernel) | Idle"
REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


def write_notebook(path: Path, sources: list[str]) -> Path:
    """A notebook of code cells, outputs cleared."""
    cells = [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": src,
         "execution_count": None, "outputs": []}
        for i, src in enumerate(sources)
    ]  # fmt: skip
    kernel = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb = {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HostProcess:
    """A web app in a child process: its output goes to ``scratch/<name>.log``; ``start`` returns
    once ``ready_path`` answers 200; the child imports this checkout's package."""

    name = "host"
    ready_path = "/"

    def __init__(self, scratch: Path, env: dict[str, str] | None = None) -> None:
        self.scratch = scratch
        self.env = env or {}
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = scratch / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def extra_env(self) -> dict[str, str]:
        return {}

    def start(self, timeout: float = 90) -> HostProcess:
        self.scratch.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self.env,
            "PYTHONPATH": os.pathsep.join(
                [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            **self.extra_env(),
        }
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if requests.get(self.base + self.ready_path, timeout=2).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class JupyterLab(HostProcess):
    """``jupyter lab`` on 127.0.0.1 with a token and throwaway config, settings and workspaces."""

    name = "lab"
    app = "lab"

    def __init__(
        self,
        root: Path,
        scratch: Path,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scratch, env)
        self.root = root
        self.args = args
        self.ready_path = f"/api/status?token={self.token}"

    def _settings(self) -> Path:
        settings = self.scratch / "settings" / "@jupyterlab"
        for plugin, body in [
            ("apputils-extension/notification", {"fetchNews": "false"}),
            ("notebook-extension/tracker", {"autoStartDefaultKernel": True}),
        ]:
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(body))
        return settings.parent

    def extra_env(self) -> dict[str, str]:
        return {
            "JUPYTER_CONFIG_DIR": str(self.scratch / "config"),
            "JUPYTERLAB_SETTINGS_DIR": str(self._settings()),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.scratch / "workspaces"),
        }

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "jupyter", self.app, "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *self.args,
        ]  # fmt: skip

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?token={self.token}"

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        """Until the server has a kernel that is idle (the page started it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kernels = requests.get(f"{self.base}/api/kernels?token={self.token}", timeout=5).json()
            if any(k.get("execution_state") == "idle" for k in kernels):
                return
            time.sleep(0.2)
        raise TimeoutError(f"no idle kernel after {timeout} s")

    def run_all(self, page: Any, notebook: str) -> None:
        """Open ``notebook`` and run every cell once its kernel is idle."""
        page.goto(self.url(notebook))
        self.wait_kernel_idle()
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Escape")  # command mode
        page.keyboard.press("Control+a")  # select every cell
        page.keyboard.press("Shift+Enter")  # run them

    def start(self, timeout: float = 90) -> JupyterLab:
        super().start(timeout)
        return self


class JupyterNotebook(JupyterLab):
    """``jupyter notebook`` (Notebook 7): the same server, one notebook per browser tab."""

    name = "notebook"
    app = "notebook"

    def url(self, notebook: str) -> str:
        return f"{self.base}/notebooks/{notebook}?token={self.token}"


class MarimoApp(HostProcess):
    """``marimo run APP`` (read-only app mode) on 127.0.0.1 with an access token."""

    name = "marimo"
    ready_path = "/health"

    def __init__(self, app: Path, scratch: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(scratch, env)
        self.app = app

    def command(self) -> list[str]:
        return [
            str(BIN / "marimo"), "run", str(self.app), "--headless", "--host", "127.0.0.1",
            "--port", str(self.port), "--token-password", self.token, "--no-sandbox",
        ]  # fmt: skip

    def url(self) -> str:
        return f"{self.base}/?access_token={self.token}"
