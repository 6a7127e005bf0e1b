"""``python -m pieces_widget.demo`` (what ``make demo`` runs): the URL that opens the demo notebook
is printed last, once both servers answer; the notebook the demo saves is a working copy in the
demo folder; Ctrl-C stops everything it started; ``--reset`` starts over but not while running."""

from __future__ import annotations

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

import pytest
import requests
from serverproc import ctrl_c_works

from pieces_widget.demo import MARKER, main

REPO = Path(__file__).resolve().parents[1]
TRACKED = REPO / "notebooks" / "demo.ipynb"
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab/tree/demo\.ipynb\?token=([0-9a-f]{48})")


def _lines_until_url(proc: subprocess.Popen[str], timeout: float = 90) -> list[str]:
    """stdout lines up to the one with the notebook URL (read by a thread: readline blocks)."""
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.2).rstrip("\n"))
        except queue.Empty:
            continue
        if URL.search(seen[-1]):
            return seen
    raise AssertionError(f"no notebook URL printed: {seen}")


def _refuses(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_demo_url_working_copy_and_clean_stop(tmp_path: Path) -> None:
    data = tmp_path / "demo-data"
    before = TRACKED.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pieces_widget.demo", "--data-dir", str(data), "--port", "0",
         "--lab-port", "0", "--notebook", str(TRACKED)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)}, preexec_fn=ctrl_c_works,
    )  # fmt: skip
    try:
        lines = _lines_until_url(proc)
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
