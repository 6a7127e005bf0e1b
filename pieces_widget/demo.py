"""The demo. ``find_or_start_server`` is what the demo notebook calls: a running Pieces OS, or the
reference server started in the background. ``python -m pieces_widget.demo`` is ``make demo``:
the reference server and JupyterLab on 127.0.0.1, on a working copy of the notebook kept in the
demo folder, logs and JupyterLab's settings in files there, and last, on a line of its own, the
URL that opens the notebook. A server that exits is started again (the widget reconnects);
JupyterLab exiting ends the demo.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .core.discovery import discover
from .core.errors import PiecesConnectionError
from .server.extra import INSTALL, MODULES
from .server.supervise import (
    MAX_RESTARTS,
    RESTART_DELAY,
    Restarts,
    StartError,
    Supervised,
    free_port,
    how_it_ended,
    shown,
    spawn,
    start_reference_server,
    stop,
    wait_until_answers,
)

DEMO_PORT = 39300
LAB_PORT = 8888
MARKER = ".pieces-widget-demo"  # written in a folder the demo made: only such a folder is reset
LAB_SETTINGS = "lab-settings"  # JupyterLab's user settings: the demo's own, not ~/.jupyter's
# What the demo writes in its folder: one holding nothing else is a demo folder from before MARKER.
DEMO_ENTRIES = frozenset(
    {MARKER, "server", "notebooks", "workspaces", LAB_SETTINGS, "server.log", "jupyterlab.log",
     "demo.pid"}
)  # fmt: skip
# Never ask about (or fetch) Jupyter news: the toast would cover the widget's buttons.
NOTIFICATION_SETTINGS = (
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
    '{"fetchNews": "false", "checkForUpdates": false}\n',
)


def default_notebook() -> Path:
    """The demo notebook: the one shipped in the wheel, else the clone's ``notebooks/``."""
    here = Path(__file__).resolve().parent
    shipped, clone = here / "notebooks" / "demo.ipynb", here.parent / "notebooks" / "demo.ipynb"
    return shipped if shipped.is_file() or not clone.is_file() else clone


def check_installed() -> None:
    """The demo runs the reference server and JupyterLab: say in one line what is missing."""
    missing = ", ".join(sorted(m for m in MODULES if importlib.util.find_spec(m) is None))
    if missing:
        raise DemoError(f"the demo needs the server extra ({missing} not installed): {INSTALL}")
    if importlib.util.find_spec("jupyterlab") is None:
        raise DemoError("the demo runs JupyterLab, which is not installed: pip install jupyterlab")


def find_or_start_server(data_dir: str | Path | None = None, port: int = DEMO_PORT) -> str:
    """The base URL of a running Pieces OS, or of a reference server started in the background."""
    try:
        found = discover()
        print(f"Using Pieces OS at {found.base_url} (found by {found.how}).")
        return found.base_url
    except PiecesConnectionError:
        pass
    data_dir = Path(data_dir or Path.home() / ".cache" / "pieces-widget-demo")
    try:
        _, url = start_reference_server(data_dir, port)
    except StartError as exc:
        raise PiecesConnectionError(str(exc)) from None
    os.environ["PIECES_OS_URL"] = url
    print(f"No Pieces OS found: started the reference server at {url} (data in {data_dir}).")
    return url


class DemoError(Exception):
    """Why the demo could not start, in one line (plus the end of a log when there is one)."""


class Demo:
    """The two child processes of the demo, each in its own session so that Ctrl-C reaches only
    this process, which then stops them in order (JupyterLab would otherwise ask y/n)."""

    def __init__(
        self,
        data_dir: Path,
        notebook: Path,
        port: int,
        lab_port: int,
        restarts: Restarts | None = None,
    ) -> None:
        self.data = data_dir.resolve()
        self.notebook = notebook
        self.port = port
        self.lab_port = lab_port
        self.restarts = restarts or Restarts()
        self.server: Supervised | None = None
        self.lab: subprocess.Popen[bytes] | None = None
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

    def start_server(self) -> str:
        port = free_port(self.port, "the reference server")  # kept: a restart reuses it
        given_up = "; JupyterLab keeps running, Ctrl-C stops the demo"
        log = self.data / "server.log"
        self.server = Supervised(self.data / "server", port, log, self.restarts, given_up)
        return self.server.start()

    def lab_settings(self) -> Path:
        """JupyterLab's user settings for the demo, in the demo folder: what the user changes in
        the demo (theme, answers) stays there; news is off unless they turn it on there."""
        settings = self.data / LAB_SETTINGS
        name, text = NOTIFICATION_SETTINGS
        if not (settings / name).exists():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(text)
        return settings

    def start_lab(self, server_url: str, root: Path) -> str:
        log = self.data / "jupyterlab.log"
        port = free_port(self.lab_port, "JupyterLab")
        settings, workspaces = self.lab_settings(), self.data / "workspaces"
        # The environment too, for what reads it rather than LabApp (``jupyter lab path``).
        env = {
            **os.environ,
            "PIECES_OS_URL": server_url,
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(workspaces),
        }
        self.lab = spawn(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workspaces}",
             "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            log, env, tied=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_until_answers(self.lab, f"{base}/api/status?token={self.token}", "JupyterLab", log)
        return f"{base}/lab/tree/{self.notebook.name}?token={self.token}"

    def stop(self) -> None:
        stop(self.lab)  # JupyterLab first, then the server it talks to
        if self.server is not None:
            self.server.stop()

    def _banner(self, server: str, copy: Path, url: str) -> None:
        data = shown(self.data)
        print(f"reference server  {server}  (demo catalog; its store in {data}/server)")
        print(f"notebook          {shown(copy)}  (a working copy; make demo-reset starts over)")
        print(f"logs              {data}/jupyterlab.log  {data}/server.log")
        print(f"JupyterLab        its settings in {data}/{LAB_SETTINGS} (not ~/.jupyter)")
        print("Notebook 7        the same URL with /notebooks/ in place of /lab/tree/")
        print("Open the demo notebook (Ctrl-C stops the demo):")
        print(url, flush=True)  # last, on a line of its own

    def supervise(self, poll: float = 0.2) -> int:
        """Until JupyterLab exits (or a signal ends the demo): restart a server that exited."""
        assert self.lab is not None and self.server is not None
        while self.lab.poll() is None:
            said = self.server.check(time.monotonic())
            if said is not None:
                print(said, flush=True)
            time.sleep(poll)
        print(f"the demo stopped: JupyterLab {how_it_ended(self.lab.returncode)}", file=sys.stderr)
        return 1

    def run(self) -> int:
        pid = running_pid(self.data)
        if pid is not None:
            raise DemoError(f"a demo is already running on {shown(self.data)} (pid {pid})")
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
            return self.supervise()
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
    parser.add_argument(
        "--notebook", type=Path, default=None, help="default: the demo notebook shipped with it"
    )
    parser.add_argument("--port", type=int, default=DEMO_PORT, help="reference server port")
    parser.add_argument("--lab-port", type=int, default=LAB_PORT, help="JupyterLab port")
    parser.add_argument(
        "--restart-delay", type=float, default=RESTART_DELAY, metavar="S",
        help="seconds before restarting a reference server that exited (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-restarts", type=int, default=MAX_RESTARTS, metavar="N",
        help="restarts in a row before giving up on the server (default %(default)s)",
    )  # fmt: skip
    parser.add_argument("--reset", action="store_true", help="delete the demo folder and exit")
    args = parser.parse_args(argv)
    try:
        if args.reset:
            reset(args.data_dir)
            return 0
        check_installed()
        restarts = Restarts(delay=args.restart_delay, limit=args.max_restarts)
        notebook = args.notebook or default_notebook()
        demo = Demo(args.data_dir, notebook, args.port, args.lab_port, restarts)
        # Stop the children on kill or hang-up too (Windows has no SIGHUP).
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
        return demo.run()
    except (DemoError, StartError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
