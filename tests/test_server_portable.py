"""The reference server on every OS a Pieces OS user has (issue 19, point 4).

Windows has no ``fcntl``, no ``os.O_NOFOLLOW``, no ``os.pread``/``os.pwrite``, and its event
loops take no signal handlers. ``tests/nonposix.py`` takes all of these away and runs the real
server, so its lock, its files, a resumed download and a shutdown are checked here on their
portable paths; the checked open that replaces ``O_NOFOLLOW`` is also raced directly.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import websocket
from serverproc import REPO, MiB, ServerProcess, local_model, write_catalog
from test_server_api import wait_downloaded
from waiting import wait_for
from wsframes import progress_url, read_frames

from pieces_widget.server import files
from pieces_widget.server.lock import DataDirBusy, DataDirLock

NONPOSIX = [sys.executable, str(REPO / "tests" / "nonposix.py")]
CATALOG = [
    local_model("small", 64 * 1024, name="Small Model", custom=True),
    local_model("plain", 4096),
    local_model("big", 16 * MiB),
]


def stem(model_id: str) -> str:
    return hashlib.sha256(model_id.encode()).hexdigest()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog.json", CATALOG)


def nonposix(data: Path, catalog: Path, hub_rate: float = 0) -> ServerProcess:
    return ServerProcess(data, catalog, hub_rate=hub_rate, launcher=NONPOSIX)


def test_one_server_per_data_directory_without_fcntl(tmp_path: Path, catalog: Path) -> None:
    data = tmp_path / "data"
    with nonposix(data, catalog) as first:
        second = subprocess.run(
            [*NONPOSIX, "--data-dir", str(data), "--port", "0", "--catalog", str(catalog)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert second.returncode == 1 and second.stdout == ""
        assert second.stderr.strip().splitlines() == [
            f"error: data directory {data.resolve()} is in use by another server "
            f"(pid {first.proc.pid}, {first.url})"
        ]
        first.kill()  # the OS drops the lock of a process that dies, however it dies
    with nonposix(data, catalog):
        pass


def test_a_resumed_download_a_load_and_sigterm_without_pread_or_signal_handlers(
    tmp_path: Path, catalog: Path
) -> None:
    with nonposix(tmp_path / "data", catalog, hub_rate=8 * MiB) as server:
        url = server.url
        requests.post(f"{url}/model/big/download", timeout=5)
        wait_for(
            lambda: (
                requests.get(f"{url}/model/big", timeout=5).json().get("partialBytes", 0) >= MiB
            ),
            timeout=30,
            interval=0.05,
            message="1 MiB arrived",
        )
        requests.post(f"{url}/model/big/download/cancel", timeout=5)
        partial = requests.get(f"{url}/model/big", timeout=5).json()["partialBytes"]
        assert 0 < partial < 16 * MiB
        requests.post(f"{url}/model/big/download", timeout=5)  # resumes: hashes the prefix
        model = wait_downloaded(url, "big")
        assert model.get("error") is None, model  # the sha256 matched across the resume
        assert requests.post(f"{url}/model/big/load", timeout=30).json()["loaded"] is True
        edited = requests.post(
            f"{url}/model/update", json={"id": "small", "name": "Renamed"}, timeout=5
        )
        assert edited.ok and edited.json()["name"] == "Renamed"  # state.json written
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(10) == 0  # stopped by the plain signal handler
    weights = tmp_path / "data" / "models" / f"{stem('big')}.bin"
    assert weights.stat().st_size == 16 * MiB


def test_symlinks_are_never_followed_without_o_nofollow(tmp_path: Path, catalog: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"precious" * 8192)
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / f"{stem('small')}.part").symlink_to(outside)
    (data / "models" / f"{stem('plain')}.bin").symlink_to(outside)
    (data / "server.lock").symlink_to(tmp_path / "elsewhere.lock")
    refused = subprocess.run(
        [*NONPOSIX, "--data-dir", str(data), "--port", "0", "--catalog", str(catalog)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert refused.returncode == 1 and "refusing to follow a symlink" in refused.stderr
    assert not (tmp_path / "elsewhere.lock").exists()
    (data / "server.lock").unlink()
    with nonposix(data, catalog) as server:
        url = server.url
        ws = websocket.create_connection(progress_url(url, "small"), timeout=5)
        requests.post(f"{url}/model/small/download", timeout=5)
        frames, _ = read_frames(ws)
        last = frames[-1][1]
        assert last["status"] == "FAILED" and "symlink" in last["error"], last
        assert requests.post(f"{url}/model/plain/load", timeout=5).status_code == 500
    assert outside.read_bytes() == b"precious" * 8192


@pytest.fixture
def no_nofollow(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("O_NOFOLLOW", "pread", "pwrite"):
        monkeypatch.delattr(os, name, raising=False)


@pytest.mark.usefixtures("no_nofollow")
def test_the_checked_open_refuses_a_link_swapped_in_after_its_lstat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, victim = tmp_path / "weights.bin", tmp_path / "victim"
    target.write_bytes(b"ours")
    victim.write_bytes(b"precious")
    real_open = os.open

    def swap_then_open(path: str | Path, flags: int, mode: int = 0o777) -> int:
        if Path(path) == target:  # between the lstat and the open, a link takes its place
            target.unlink()
            target.symlink_to(victim)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", swap_then_open)
    with pytest.raises(OSError) as refused:
        files.open_fd(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    assert refused.value.errno == errno.ELOOP
    assert victim.read_bytes() == b"precious"  # O_TRUNC waits for the check


@pytest.mark.usefixtures("no_nofollow")
def test_the_checked_open_creates_reads_and_truncates_regular_files(tmp_path: Path) -> None:
    path = tmp_path / "state.part"
    fd = files.open_fd(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
    os.write(fd, b"0123456789")
    assert files.pread(fd, 4, 3) == b"3456"
    os.close(fd)
    fd = files.open_fd(path, os.O_WRONLY | os.O_TRUNC)
    os.close(fd)
    assert path.read_bytes() == b""
    (tmp_path / "link").symlink_to(path)
    with pytest.raises(OSError) as refused:
        files.open_fd(tmp_path / "link", os.O_RDONLY)
    assert refused.value.errno == errno.ELOOP


@pytest.mark.usefixtures("no_nofollow")
def test_the_lock_names_its_holder_without_pread(tmp_path: Path) -> None:
    first, second = DataDirLock(tmp_path), DataDirLock(tmp_path)
    first.acquire()
    first.record("http://127.0.0.1:1234")
    with pytest.raises(DataDirBusy, match=rf"pid {os.getpid()}, http://127.0.0.1:1234\)$"):
        second.acquire()
    first.release()
    second.acquire()  # released: the next one takes it, and the old record is gone
    with pytest.raises(DataDirBusy, match=r"a server that is still starting\)$"):
        DataDirLock(tmp_path).acquire()
    second.release()


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "pieces_widget.server", "--port", "0"],
        [sys.executable, "-m", "pieces_widget", "serve", "--port", "0"],
    ],
    ids=["python -m pieces_widget.server", "pieces-models serve"],
)
@pytest.mark.parametrize("module", ["aiohttp", "filelock"])
def test_without_the_server_extra_one_line_names_it(
    command: list[str], module: str, tmp_path: Path
) -> None:
    # A module set to None in sys.modules cannot be imported, as when it is not installed.
    code = f"import runpy, sys; sys.modules[{module!r}] = None; "
    code += f"sys.argv[1:] = {command[3:]!r} + sys.argv[1:]; "
    code += f"runpy.run_module({command[2]!r}, run_name='__main__', alter_sys=True)"
    out = subprocess.run(
        [sys.executable, "-c", code, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 1, out.stderr
    assert out.stderr.strip().splitlines() == [
        f"error: the reference server needs the server extra ({module} is not installed): "
        "pip install 'pieces-widget[server]'"
    ]
