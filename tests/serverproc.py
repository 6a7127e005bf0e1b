"""Run the real reference server as a child process on a free port (tests and benchmarks)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
from waiting import wait_for

MiB = 1 << 20
REPO = Path(__file__).resolve().parents[1]


def ctrl_c_works() -> None:
    """``preexec_fn`` for a child a test sends SIGINT to, as Ctrl-C in a terminal does: a shell
    starts background jobs (a CI script run with ``&``) with SIGINT ignored, and Python then
    never raises KeyboardInterrupt. Restore the default so the child sees it as a user would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write_catalog(path: Path, models: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(models))
    return path


def server_starter(
    tmp_path: Path, models: list[dict[str, Any]], hub_rate: float
) -> Iterator[Callable[..., ServerProcess]]:
    """A ``start`` fixture's body: ``start(*server_args, hub_rate=...)`` starts (or restarts, on
    the same data directory) a server with ``models``; every server it started stops after."""
    catalog = write_catalog(tmp_path / "catalog.json", models)
    started: list[ServerProcess] = []
    default_rate = hub_rate

    def run(*args: str, hub_rate: float = default_rate) -> ServerProcess:
        server = ServerProcess(tmp_path / "data", catalog, hub_rate=hub_rate, extra_args=[*args])
        started.append(server.start())
        return server

    yield run
    for server in started:
        server.stop()


def write_cloud_models(data_dir: Path, count: int, description: int = 4000) -> list[str]:
    """A ``state.json`` in ``data_dir`` holding ``count`` custom cloud models (ids ``c0000``...)
    with ``description``-character descriptions, as the server stores created models; their
    ids."""
    data_dir.mkdir(parents=True, exist_ok=True)
    created = {
        f"c{i:04d}": {
            "model": {
                "name": f"Cloud {i}",
                "cloud": True,
                "created": {"value": "2024-05-01T12:00:00+00:00"},
                "description": "d" * description,
            }
        }
        for i in range(count)
    }
    (data_dir / "state.json").write_text(json.dumps({"version": 1, "created": created}))
    return list(created)


def local_model(model_id: str, size: int, **extra: Any) -> dict[str, Any]:
    """A catalog entry whose weights are a generated hub blob of ``size`` bytes."""
    blob = extra.pop("blob", None) or re.sub(r"[^A-Za-z0-9._-]", "_", f"{model_id}-{size}.bin")
    source = {"hub": blob, "bytes": size, **extra.pop("source", {})}
    return {"id": model_id, "name": extra.pop("name", model_id), "source": source, **extra}


class ServerProcess:
    """``python -m pieces_widget.server`` with a temp data dir; ``url`` once it listens."""

    def __init__(
        self,
        data_dir: Path,
        catalog: Path | None = None,
        hub_rate: float = 0,
        port: int = 0,
        host: str = "127.0.0.1",
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        launcher: list[str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        # What runs the server's command line (tests/nonposix.py runs it as on Windows).
        self.launcher = launcher or [sys.executable, "-m", "pieces_widget.server"]
        self.catalog = catalog
        self.hub_rate = hub_rate
        self.port = port
        self.host = host
        self.extra_args = extra_args or []  # e.g. ["--stall-timeout", "0.5"]
        self.env = env or {}
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.token = ""  # with --allow-remote

    def start(self, timeout: float = 60) -> ServerProcess:
        args = [*self.launcher, "--data-dir", str(self.data_dir)]
        args += ["--port", str(self.port), "--host", self.host, "--hub-rate", str(self.hub_rate)]
        if self.catalog is not None:
            args += ["--catalog", str(self.catalog)]
        args += self.extra_args
        log = open(self.log_path, "a")  # noqa: SIM115 - owned by the child for its life
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, **self.env, "PYTHONPATH": str(REPO)},  # this checkout's package
        )
        log.close()
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}\n{self.log_path.read_text()}")
        self.url = line.split("listening on ", 1)[1].split()[0]
        self.port = int(self.url.rsplit(":", 1)[1])
        headers = {}
        if "--allow-remote" in self.extra_args:  # the next line says which token to send
            about = self.proc.stdout.readline()
            printed = about.split("X-Pieces-Server-Token: ")[-1].split()[0]
            self.token = self.env.get("PIECES_SERVER_TOKEN") or printed
            headers["X-Pieces-Server-Token"] = self.token

        def healthy() -> bool:
            try:
                return requests.get(self.url + "/.well-known/health", headers=headers, timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_for(healthy, deadline - time.monotonic(), message="the server's health check")
        return self

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
