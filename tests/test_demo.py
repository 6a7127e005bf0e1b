"""``python -m pieces_widget.demo`` (what ``make demo`` runs): the URL that opens the demo notebook
is printed last, once both servers answer; the notebook the demo saves is a working copy in the
demo folder, and JupyterLab's settings are the demo's own there (~/.jupyter untouched); a killed
reference server comes back on its port while JupyterLab keeps running, until it dies too often
in a row; Ctrl-C and SIGTERM stop everything it started; ``--reset`` starts over but not while
running. The notebook never blocks the kernel in a cell that invites clicks."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests
from serverproc import ctrl_c_works
from waiting import wait_for

from pieces_widget.core.discovery import ENV_PORT_FILE, ENV_URL, discover
from pieces_widget.core.errors import PiecesConnectionError
from pieces_widget.demo import MARKER, Restarts, find_or_start_server, main
from pieces_widget.server.supervise import StartError, free_port, start_reference_server, stop

REPO = Path(__file__).resolve().parents[1]
TRACKED = REPO / "notebooks" / "demo.ipynb"
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab/tree/demo\.ipynb\?token=([0-9a-f]{48})")


class Output:
    """The demo's stdout, read by a thread (readline blocks), line by line as it comes."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        stdout = proc.stdout
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self._lines.put(x) for x in stdout], daemon=True).start()
        self.seen: list[str] = []

    def until(self, pattern: re.Pattern[str], timeout: float) -> list[str]:
        """The lines read since the last call, up to one ``pattern`` matches."""
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.seen.append(self._lines.get(timeout=0.1).rstrip("\n"))
            except queue.Empty:
                continue
            if pattern.search(self.seen[-1]):
                return self.seen[start:]
        raise AssertionError(f"no line matching {pattern.pattern!r}: {self.seen[start:]}")


def _start_demo(tmp_path: Path, data: Path, *options: str) -> subprocess.Popen[str]:
    """The demo on free ports, with HOME in ``tmp_path``: what it writes there shows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JUPYTERLAB"))}
    return subprocess.Popen(
        [sys.executable, "-m", "pieces_widget.demo", "--data-dir", str(data), "--port", "0",
         "--lab-port", "0", "--notebook", str(TRACKED), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO), "HOME": str(tmp_path / "home")},
        preexec_fn=ctrl_c_works,
    )  # fmt: skip


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def _refuses(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_demo_url_working_copy_and_clean_stop(tmp_path: Path) -> None:
    data = tmp_path / "demo-data"
    before = TRACKED.read_bytes()
    proc = _start_demo(tmp_path, data)
    try:
        lines = Output(proc).until(URL, 90)
        url = lines[-1]
        match = URL.fullmatch(url)
        assert match, f"the last line is not only the URL: {url!r}"
        lab_port, token = int(match[1]), match[2]
        server_port = int(re.search(r"reference server\s+http://127\.0\.0\.1:(\d+)", lines[0])[1])
        assert requests.get(f"http://127.0.0.1:{server_port}/models", timeout=5).ok

        # The URL opens the notebook itself (JupyterLab's page config names it), not the Launcher.
        page = requests.get(url, timeout=10)
        assert page.ok and '"treePath": "demo.ipynb"' in page.text

        # What the notebook saves (autosave, outputs) lands in the working copy only.
        api = f"http://127.0.0.1:{lab_port}/api/contents/demo.ipynb?token={token}"
        assert requests.get(api.split("?")[0], timeout=10).status_code == 403  # token required
        model = requests.get(api, timeout=10).json()
        model["content"]["cells"][0]["source"] = "# edited in the demo"
        assert requests.put(api, json={"type": "notebook", "content": model["content"]}).ok
        assert "edited in the demo" in (data / "notebooks" / "demo.ipynb").read_text()
        assert TRACKED.read_bytes() == before
        assert "JupyterLab" in (data / "jupyterlab.log").read_text()  # its log is a file
        assert (data / MARKER).is_file()  # the demo made this folder: reset may delete it

        # JupyterLab's settings are the demo's: news off (no toast over the widget), and what
        # the user changes (the theme here) is written in the demo folder, not in ~/.jupyter.
        settings = f"http://127.0.0.1:{lab_port}/lab/api/settings/@jupyterlab/apputils-extension"
        news = requests.get(f"{settings}:notification?token={token}", timeout=10).json()
        assert news["settings"]["fetchNews"] == "false", news["settings"]
        theme = {"raw": json.dumps({"theme": "JupyterLab Dark"})}
        assert requests.put(f"{settings}:themes?token={token}", json=theme, timeout=10).ok
        written = data / "lab-settings/@jupyterlab/apputils-extension/themes.jupyterlab-settings"
        assert "JupyterLab Dark" in written.read_text()

        assert main(["--reset", "--data-dir", str(data)]) == 1  # not while it runs
        assert data.exists()

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(60) == 0  # JupyterLab may take its time to stop on a busy machine
        assert _refuses(lab_port) and _refuses(server_port)
        assert not (data / "demo.pid").exists()
    finally:
        if proc.poll() is None:  # a failed check: stop it the way that stops its children too
            proc.terminate()
            proc.wait(30)
    assert not (tmp_path / "home" / ".jupyter").exists()
    assert main(["--reset", "--data-dir", str(data)]) == 0
    assert not data.exists()
    assert TRACKED.read_bytes() == before


def test_reset_deletes_only_a_demo_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo-reset DEMO_DATA=.` in a checkout deletes nothing: the folder must hold the
    demo's marker, or (a folder from before the marker) nothing but what the demo writes."""
    checkout = tmp_path / "checkout"
    for name in ("notebooks/demo.ipynb", "server/keep.txt", "pyproject.toml", "Makefile"):
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text("mine")
    monkeypatch.chdir(checkout)
    assert main(["--reset", "--data-dir", "."]) == 1
    assert "not a demo folder" in capsys.readouterr().err
    assert sorted(p.name for p in checkout.iterdir()) == [
        "Makefile", "notebooks", "pyproject.toml", "server"
    ]  # fmt: skip
    legacy = tmp_path / "legacy"  # made by a demo before the marker
    for name in ("server/models", "notebooks", "workspaces"):
        (legacy / name).mkdir(parents=True)
    (legacy / "server.log").write_text("log")
    marked = tmp_path / "marked"  # made by a demo: its marker, and whatever was put there
    marked.mkdir()
    (marked / MARKER).write_text("")
    (marked / "notes.txt").write_text("mine, but in the demo folder")
    for folder in (legacy, marked, tmp_path / "absent"):
        assert main(["--reset", "--data-dir", str(folder)]) == 0, capsys.readouterr().err
        assert not folder.exists()


def _server_pid(demo: subprocess.Popen[str]) -> int:
    (server,) = [
        child for child in psutil.Process(demo.pid).children()
        if "pieces_widget.server" in child.cmdline()
    ]  # fmt: skip
    return server.pid


def test_a_killed_server_comes_back_until_it_dies_too_often(tmp_path: Path) -> None:
    """SIGKILL the reference server: one line says so, it answers again on the same port within
    seconds and JupyterLab never stops; after --max-restarts deaths in a row it stays down, said
    in one line, and JupyterLab still runs until SIGTERM stops the demo."""
    data = tmp_path / "demo-data"
    proc = _start_demo(tmp_path, data, "--restart-delay", "0.3", "--max-restarts", "2")
    try:
        out = Output(proc)
        lines = out.until(URL, 90)
        match = URL.fullmatch(lines[-1])
        assert match
        lab = f"http://127.0.0.1:{match[1]}/api/status?token={match[2]}"
        server_port = int(re.search(r"reference server\s+http://127\.0\.0\.1:(\d+)", lines[0])[1])
        health = f"http://127.0.0.1:{server_port}/.well-known/health"

        for n in (1, 2):
            pid = _server_pid(proc)
            killed = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            said = out.until(re.compile("reference server"), 10)[-1]
            assert said == (
                f"the reference server was killed by SIGKILL: restarting it in 0.3 s on port "
                f"{server_port} with the same data (restart {n} of 2 in a row); the widget "
                "reconnects by itself"
            ), said
            wait_for(
                lambda: _answers(health),
                timeout=killed + 5 - time.monotonic(),
                interval=0.1,
                message=f"back on {server_port} within 5 s of the kill",
            )
            assert _server_pid(proc) != pid
            assert _answers(lab) and proc.poll() is None

        os.kill(_server_pid(proc), signal.SIGKILL)  # a third death in a row: it stays down
        said = out.until(re.compile("reference server"), 10)[-1]
        assert said.startswith("the reference server was killed by SIGKILL, 3 times in a row: "
                               "not restarting it again"), said  # fmt: skip
        assert "JupyterLab keeps running" in said
        # A sleep on purpose: twice the 0.3 s restart delay, and nothing restarts it.
        time.sleep(0.6)
        assert _refuses(server_port) and _answers(lab) and proc.poll() is None

        proc.terminate()  # SIGTERM stops the demo and JupyterLab
        assert proc.wait(60) == 128 + signal.SIGTERM
        assert _refuses(int(match[1]))
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


NOTEBOOK = json.loads(TRACKED.read_text())
BLOCKING = re.compile(r"\.(ensure|wait|result)\(|time\.sleep\(")
INVITES = re.compile(r"\b(click|try|watch|works|use the|widget above)\b", re.I)
WARNS = "the widget's buttons answer only when no cell is running"


def _text(cell: dict[str, object]) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)  # type: ignore[arg-type]


def test_the_notebook_never_blocks_where_it_invites_clicks() -> None:
    """While a cell runs, Jupyter holds the widget's button clicks: a cell whose text invites
    clicks must return at once; a blocking call comes after a text that says the cell waits."""
    cells = NOTEBOOK["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)  # outputs cleared
    said = ""  # the last markdown before each code cell
    blocking = 0
    for cell in cells:
        if cell["cell_type"] == "markdown":
            said = _text(cell)
            continue
        if BLOCKING.search(_text(cell)):
            blocking += 1
            assert "waits" in said and WARNS in said and not INVITES.search(said), said
        elif "mgr.download(" in _text(cell):
            assert INVITES.search(said), said  # the non-blocking start is where clicks go
    assert blocking == 1 and any("mgr.download(" in _text(c) for c in code)
    prose = " ".join(_text(c) for c in cells if c["cell_type"] == "markdown")
    assert "belong in scripts and provisioning" in prose


def test_a_server_that_lived_long_starts_a_new_row() -> None:
    """Deaths count "in a row" only while each comes before ``stable_after``: a server that ran
    for a while and then died is restarted even after earlier quick deaths."""
    restarts = Restarts(delay=3, limit=2, stable_after=60)
    assert restarts.died(lived=1, now=0) and restarts.due == 3
    assert restarts.died(lived=1, now=5)
    assert not restarts.died(lived=1, now=10)  # a third quick death: given up
    again = Restarts(delay=3, limit=2, stable_after=60)
    assert again.died(lived=1, now=0) and again.died(lived=1, now=5)
    assert again.died(lived=120, now=200) and again.in_a_row == 1 and again.due == 203


def test_the_notebooks_get_a_server_that_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``find_or_start_server`` starts the reference server as the demo does and returns its URL
    once it answers, not before (a widget made at once would find nothing there)."""
    monkeypatch.setenv(ENV_PORT_FILE, str(tmp_path / "no-port-file"))
    monkeypatch.delenv(ENV_URL, raising=False)
    try:
        found = discover()
    except PiecesConnectionError:
        pass
    else:
        pytest.skip(f"a Pieces OS answers at {found.base_url}: it would be used instead")
    url = find_or_start_server(tmp_path / "data", free_port(0, "the reference server"))
    try:
        assert os.environ[ENV_URL] == url
        assert requests.get(f"{url}/.well-known/health", timeout=2).text.startswith("ok:")
    finally:
        for child in psutil.Process().children():
            if "pieces_widget.server" in child.cmdline():
                child.terminate()
                child.wait(20)


def test_a_server_that_cannot_start_says_why_at_once(tmp_path: Path) -> None:
    """A second server on the same data is refused by the first: ``start_reference_server``
    says so in its error, with the end of the log, as soon as the server exits."""
    first, _ = start_reference_server(tmp_path / "data", free_port(0, "first"))
    try:
        began = time.monotonic()
        with pytest.raises(StartError) as caught:
            start_reference_server(
                tmp_path / "data", free_port(0, "second"), log=tmp_path / "second.log"
            )
        assert time.monotonic() - began < 20  # not the 120 s startup timeout
        said = str(caught.value)
        assert said.startswith("the reference server exited with status 1:\n"), said
        assert "is in use by another server" in said, said
    finally:
        stop(first)
    assert first.returncode is not None
