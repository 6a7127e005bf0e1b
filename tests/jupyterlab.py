"""Real JupyterLab and Debian's Chromium for the browser tests and benchmarks (DESIGN.md 7)."""

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` on 127.0.0.1 with a token and throwaway config, settings and workspaces."""

    def __init__(
        self,
        root: Path,
        scratch: Path,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.args = args
        self.scratch = scratch
        self.env = env or {}
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

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

    def start(self, timeout: float = 90) -> JupyterLab:
        env = {
            **os.environ,
            **self.env,
            # the kernel imports this checkout's package, whatever is installed
            "PYTHONPATH": os.pathsep.join(
                [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            "JUPYTER_CONFIG_DIR": str(self.scratch / "config"),
            "JUPYTERLAB_SETTINGS_DIR": str(self._settings()),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.scratch / "workspaces"),
        }
        self.log = self.scratch / "lab.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
                    "--ip=127.0.0.1", f"--port={self.port}",
                    f"--IdentityProvider.token={self.token}",
                    f"--ServerApp.root_dir={self.root}", "--LabApp.news_url=None",
                    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                    *self.args,
                ],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/api/status?token={self.token}", timeout=2).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(self.log.read_text()[-3000:])

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?token={self.token}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
