"""The reference server as a child process: ``start_reference_server`` starts
``python -m pieces_widget.server`` and returns once it answers (the demo and
``demo.find_or_start_server`` for the notebooks both start it so); ``Supervised`` starts it again
when it exits (the demo), until it dies too often in a row. No aiohttp here: this runs in the
kernel or the demo's own process.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

STARTUP_TIMEOUT = 120.0  # s; the first start generates the demo hub's blobs
RESTART_DELAY = 3.0  # s; long enough to see the widget say "unreachable", then reconnect
MAX_RESTARTS = 5  # restarts in a row (each death before STABLE_AFTER) before giving up
STABLE_AFTER = 60.0  # s; a server that lived this long ends a row of deaths
SERVER = "the reference server"


class StartError(Exception):
    """A child process did not start: one line, then the end of its log when it has one."""


def free_port(preferred: int, what: str) -> int:
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
    raise StartError("no free port on 127.0.0.1")


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM when the parent dies, even by SIGKILL, so no
    child outlives it. Elsewhere a killed parent may leave them running (Ctrl-C never does)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def spawn(
    args: list[str], log: Path | None, env: dict[str, str] | None = None, tied: bool = False
) -> subprocess.Popen[bytes]:
    """``args`` in a session of its own (Ctrl-C reaches only us, who stop it in order), its
    output appended to ``log`` (None: stdout dropped, stderr ours); ``tied``: it dies with us."""
    preexec = _die_with_parent if tied and sys.platform == "linux" else None
    if log is None:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
            start_new_session=True, preexec_fn=preexec,
        )  # fmt: skip
    with open(log, "ab") as out:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, preexec_fn=preexec,
        )  # fmt: skip


def wait_until_answers(
    proc: subprocess.Popen[bytes],
    url: str,
    what: str,
    log: Path | None,
    timeout: float = STARTUP_TIMEOUT,
) -> None:
    """Until ``url`` answers 2xx; ``StartError`` if ``proc`` exits or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartError(f"{what} exited with status {proc.returncode}{_tail(log)}")
        if _answers(url):
            return
        time.sleep(0.2)
    raise StartError(f"{what} did not answer within {timeout:g} s{_tail(log)}")


def _answers(url: str) -> bool:
    with requests.Session() as session:
        session.trust_env = False  # loopback: never through a proxy
        try:
            return session.get(url, timeout=2).ok
        except requests.RequestException:
            return False


def stop(proc: subprocess.Popen[bytes] | None, patience: float = 20) -> None:
    """SIGTERM, then SIGKILL after ``patience`` seconds."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(patience)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_reference_server(
    data_dir: Path,
    port: int,
    log: Path | None = None,
    tied: bool = False,
    wait: bool = True,
    timeout: float = STARTUP_TIMEOUT,
) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m pieces_widget.server`` (the demo catalog) on 127.0.0.1:``port`` with its
    store in ``data_dir``, and its URL; with ``wait``, once it answers (stopped and
    ``StartError`` if it does not)."""
    args = [sys.executable, "-m", "pieces_widget.server", "--port", str(port)]
    args += ["--data-dir", str(data_dir), "--quiet"]
    proc = spawn(args, log, tied=tied)
    url = f"http://127.0.0.1:{port}"
    if wait:
        try:
            wait_until_answers(proc, f"{url}/.well-known/health", SERVER, log, timeout)
        except BaseException:
            stop(proc)
            raise
    return proc, url


def how_it_ended(status: int) -> str:
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-status).name}"
        return f"was killed by signal {-status}"
    return f"exited with status {status}"


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it (shorter to read)."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def _tail(log: Path | None, lines: int = 30) -> str:
    """The end of ``log`` on the lines after an error's first ("" when there is none)."""
    if log is None:
        return ""
    try:
        text = "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        text = ""
    return f":\n{text}"


@dataclass
class Restarts:
    """When to start the reference server again after it exits, and when to stop trying."""

    delay: float = RESTART_DELAY
    limit: int = MAX_RESTARTS
    stable_after: float = STABLE_AFTER
    in_a_row: int = 0  # deaths, each before stable_after, since the last long-lived start
    due: float | None = None  # monotonic time of the next start, while one is pending

    def died(self, lived: float, now: float) -> bool:
        """Count a death after ``lived`` seconds; False once ``limit`` restarts in a row failed."""
        self.in_a_row = 1 if lived >= self.stable_after else self.in_a_row + 1
        if self.in_a_row > self.limit:
            return False
        self.due = now + self.delay
        return True


class Supervised:
    """The reference server kept running on one port with the same data: started again
    ``restarts.delay`` after it exits, until ``restarts.limit`` deaths in a row. ``given_up``
    ends the line that says it will not be started again."""

    def __init__(
        self, data_dir: Path, port: int, log: Path, restarts: Restarts, given_up: str = ""
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.log = log
        self.restarts = restarts
        self.given_up = given_up
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self._watching = True  # False once the server is given up on

    def start(self, wait: bool = True) -> str:
        """Start the server (on the port it had: a restart reuses it); its URL."""
        self.started = time.monotonic()
        self.proc, url = start_reference_server(
            self.data_dir, self.port, self.log, tied=True, wait=wait
        )
        return url

    def check(self, now: float) -> str | None:
        """Start a server whose restart is due, or notice one that exited: then one line that
        says how it ended and whether it comes back (else None)."""
        due, proc = self.restarts.due, self.proc
        if due is not None and now >= due:
            self.restarts.due = None
            self.start(wait=False)  # the widget reconnects once it answers
        elif due is None and self._watching and proc is not None and proc.poll() is not None:
            return self._exited(proc.returncode, now)
        return None

    def _exited(self, status: int, now: float) -> str:
        how = f"{SERVER} {how_it_ended(status)}"
        if self.restarts.died(now - self.started, now):
            return (
                f"{how}: restarting it in {self.restarts.delay:g} s on port {self.port} with the "
                f"same data (restart {self.restarts.in_a_row} of {self.restarts.limit} in a row); "
                "the widget reconnects by itself"
            )
        self._watching = False
        return (
            f"{how}, {self.restarts.in_a_row} times in a row: not restarting it again (see "
            f"{shown(self.log)}){self.given_up}"
        )

    def stop(self) -> None:
        stop(self.proc)
