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
        # The port was free when picked, not necessarily when the child binds it: a child that
        # finds it taken exits (hosts are told not to move to another port), and gets a new one.
        for _attempt in range(3):
            with open(self.log, "w") as log:
                self.proc = subprocess.Popen(
                    self.command(), env=env, stdout=log, stderr=subprocess.STDOUT
                )
            if self._wait_ready(time.monotonic() + timeout):
                return self
            self.stop()
            if "in use" not in self.log.read_text():
                break
            self.port = free_port()
            self.base = f"http://127.0.0.1:{self.port}"
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def _wait_ready(self, deadline: float) -> bool:
        assert self.proc is not None
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.is_ready(requests.get(self.base + self.ready_path, timeout=2)):
                    return True
            except (requests.ConnectionError, ValueError):  # not up yet, or not JSON
                time.sleep(0.3)
        return False

    def is_ready(self, answer: requests.Response) -> bool:
        return answer.ok

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
            "--ServerApp.port_retries=0",  # a taken port is an error, not a quiet move
            *self.args,
        ]  # fmt: skip

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?token={self.token}"

    def is_ready(self, answer: requests.Response) -> bool:
        # Jupyter's own status (not whatever else may answer on this port).
        return answer.ok and "started" in answer.json()

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        """Until the server has a kernel that is idle (the page started it)."""
        deadline = time.monotonic() + timeout
        answer = None
        while time.monotonic() < deadline:
            answer = requests.get(f"{self.base}/api/kernels?token={self.token}", timeout=5)
            kernels = answer.json() if answer.ok else []
            if isinstance(kernels, list) and any(
                k.get("execution_state") == "idle" for k in kernels
            ):
                return
            time.sleep(0.2)
        said = f"{answer.status_code} {answer.text[:300]}" if answer is not None else "nothing"
        raise TimeoutError(
            f"no idle kernel after {timeout} s; /api/kernels said {said}\n"
            f"{self.log.read_text()[-2000:]}"
        )

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

    def is_ready(self, answer: requests.Response) -> bool:
        # marimo's own health answer (marimo moves to another port when this one is taken).
        return answer.ok and "status" in answer.json()

    def url(self) -> str:
        return f"{self.base}/?access_token={self.token}"
