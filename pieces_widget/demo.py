"""The demo. ``find_or_start_server`` is what the demo notebook calls: a running Pieces OS, or the
reference server started in the background. ``python -m pieces_widget.demo`` is ``make demo``:
the reference server and JupyterLab on 127.0.0.1, on a working copy of the notebook kept in the
demo folder, logs in files there, and last, on a line of its own, the URL that opens the notebook.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from .discovery import discover
from .errors import PiecesConnectionError

DEMO_PORT = 39300
LAB_PORT = 8888
STARTUP_TIMEOUT = 120  # s; the first server start generates the demo hub's blobs
MARKER = ".pieces-widget-demo"  # written in a folder the demo made: only such a folder is reset
# What the demo writes in its folder: one holding nothing else is a demo folder from before MARKER.
DEMO_ENTRIES = frozenset(
    {MARKER, "server", "notebooks", "workspaces", "server.log", "jupyterlab.log", "demo.pid"}
)


def find_or_start_server(data_dir: str | Path | None = None, port: int = DEMO_PORT) -> str:
    """The base URL of a running Pieces OS, or of a reference server started in the background."""
    try:
        found = discover()
        print(f"Using Pieces OS at {found.base_url} (found by {found.how}).")
        return found.base_url
    except PiecesConnectionError:
        pass
    data_dir = Path(data_dir or Path.home() / ".cache" / "pieces-widget-demo")
    args = [sys.executable, "-m", "pieces_widget.server", "--port", str(port)]
    args += ["--data-dir", str(data_dir), "--quiet"]
    subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    os.environ["PIECES_OS_URL"] = url
    deadline = time.monotonic() + 60  # the first start generates the demo hub's blobs
    while time.monotonic() < deadline:
        try:
            discover()
            print(
                f"No Pieces OS found: started the reference server at {url} (data in {data_dir})."
            )
            return url
        except PiecesConnectionError:
            time.sleep(0.2)
    raise PiecesConnectionError(f"the reference server did not start on {url}")


class DemoError(Exception):
    """Why the demo could not start, in one line (plus the end of a log when there is one)."""


def _port(preferred: int, what: str) -> int:
    """``preferred`` if it is free on 127.0.0.1, else (or for 0) any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen = sock.getsockname()[1]
        if preferred and chosen != preferred:
            print(f"port {preferred} is in use: {what} takes port {chosen}")
        return chosen
    raise DemoError("no free port on 127.0.0.1")


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM when the demo dies, even by SIGKILL, so no
    server outlives it. Elsewhere a killed demo may leave them running (Ctrl-C never does)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it (shorter to read)."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


class Demo:
    """The two child processes of the demo, each in its own session so that Ctrl-C reaches only
    this process, which then stops them in order (JupyterLab would otherwise ask y/n)."""

    def __init__(self, data_dir: Path, notebook: Path, port: int, lab_port: int) -> None:
        self.data = data_dir.resolve()
        self.notebook = notebook
        self.port = port
        self.lab_port = lab_port
        self.procs: list[subprocess.Popen[bytes]] = []
        self.token = secrets.token_hex(24)

    def working_copy(self) -> Path:
        """The notebook the demo runs: a copy under the demo folder, made once, kept until reset,
        so autosave and outputs never touch the tracked file."""
        copy = self.data / "notebooks" / self.notebook.name
        if not copy.exists():
            if not self.notebook.is_file():
                raise DemoError(f"no notebook at {self.notebook}")
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.notebook, copy)
        return copy

    def _spawn(self, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=env, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def start_server(self) -> str:
        log = self.data / "server.log"
        port = _port(self.port, "the reference server")
        proc = self._spawn(
            [sys.executable, "-m", "pieces_widget.server", "--port", str(port),
             "--data-dir", str(self.data / "server"), "--quiet"],
            log, dict(os.environ),
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        self._wait(proc, f"{url}/.well-known/health", "the reference server", log)
        return url

    def start_lab(self, server_url: str, root: Path) -> str:
        log = self.data / "jupyterlab.log"
        port = _port(self.lab_port, "JupyterLab")
        env = {
            **os.environ,
            "PIECES_OS_URL": server_url,
            "JUPYTERLAB_WORKSPACES_DIR": str(self.data / "workspaces"),
        }
        proc = self._spawn(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             "--LabApp.news_url=None"],
            log, env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        self._wait(proc, f"{base}/api/status?token={self.token}", "JupyterLab", log)
        return f"{base}/lab/tree/{self.notebook.name}?token={self.token}"

    def _wait(self, proc: subprocess.Popen[bytes], url: str, what: str, log: Path) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DemoError(f"{what} exited with status {proc.returncode}:\n{_tail(log)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=2).ok:
                    return
            time.sleep(0.2)
        raise DemoError(f"{what} did not answer within {STARTUP_TIMEOUT} s:\n{_tail(log)}")

    def stop(self) -> None:
        for proc in reversed(self.procs):  # JupyterLab first, then the server it talks to
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def _banner(self, server: str, copy: Path, url: str) -> None:
        data = _shown(self.data)
        print(f"reference server  {server}  (demo catalog; its store in {data}/server)")
        print(f"notebook          {_shown(copy)}  (a working copy; make demo-reset starts over)")
        print(f"logs              {data}/jupyterlab.log  {data}/server.log")
        print("Notebook 7        the same URL with /notebooks/ in place of /lab/tree/")
        print("Open the demo notebook (Ctrl-C stops the demo):")
        print(url, flush=True)  # last, on a line of its own

    def run(self) -> int:
        pid = running_pid(self.data)
        if pid is not None:
            raise DemoError(f"a demo is already running on {_shown(self.data)} (pid {pid})")
        if not self.data.exists() or is_demo_folder(self.data):  # never mark a folder of yours
            self.data.mkdir(parents=True, exist_ok=True)
            (self.data / MARKER).write_text("made by python -m pieces_widget.demo (make demo)\n")
        pid_file = self.data / "demo.pid"
        pid_file.write_text(str(os.getpid()))
        try:
            copy = self.working_copy()
            server = self.start_server()
            url = self.start_lab(server, copy.parent)
            self._banner(server, copy, url)
            while all(proc.poll() is None for proc in self.procs):
                time.sleep(0.5)
            died = next(p for p in self.procs if p.poll() is not None)
            print(f"the demo stopped: {died.args[2]} exited ({died.returncode})", file=sys.stderr)
            return 1
        finally:
            self.stop()
            with contextlib.suppress(OSError):
                pid_file.unlink()


def running_pid(data_dir: Path) -> int | None:
    """The pid of a demo running on ``data_dir``, if one is."""
    try:
        pid = int((data_dir / "demo.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def is_demo_folder(data_dir: Path) -> bool:
    """The demo made ``data_dir``: it holds the demo's marker, or nothing but what it writes."""
    if (data_dir / MARKER).is_file():
        return True
    return all(entry.name in DEMO_ENTRIES for entry in data_dir.iterdir())


def reset(data_dir: Path) -> None:
    """Delete the demo folder: downloads, partial files, the working copy and its edits, logs.
    Any other folder (``make demo-reset DEMO_DATA=.`` in a checkout) is refused."""
    if not data_dir.exists():
        print(f"{data_dir} does not exist: nothing to remove")
        return
    pid = running_pid(data_dir)
    if pid is not None:
        raise DemoError(f"a demo is running on {data_dir} (pid {pid}): stop it first (Ctrl-C)")
    if not is_demo_folder(data_dir):
        raise DemoError(
            f"{data_dir.resolve()} is not a demo folder (no {MARKER} in it, and it holds more "
            "than the demo writes): not deleting it"
        )
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"removed {data_dir}: the next make demo starts from scratch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pieces_widget.demo",
        description="The reference server and JupyterLab on a working copy of the demo notebook.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".demo-data"))
    parser.add_argument("--notebook", type=Path, default=Path("notebooks/demo.ipynb"))
    parser.add_argument("--port", type=int, default=DEMO_PORT, help="reference server port")
    parser.add_argument("--lab-port", type=int, default=LAB_PORT, help="JupyterLab port")
    parser.add_argument("--reset", action="store_true", help="delete the demo folder and exit")
    args = parser.parse_args(argv)
    try:
        if args.reset:
            reset(args.data_dir)
            return 0
        demo = Demo(args.data_dir, args.notebook, args.port, args.lab_port)
        for sig in (signal.SIGTERM, signal.SIGHUP):  # stop the children on kill or hang-up too
            signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
        return demo.run()
    except (DemoError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
