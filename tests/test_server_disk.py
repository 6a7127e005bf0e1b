"""The disk says no (issue 7, points 3 and 4): not enough space is refused before any byte is
written, a disk that fills mid-transfer ends FAILED "disk full" with the partial removed, state
writes on a full disk leave no temporary file, a read-only data directory has a plain reason.

The data directory is a small tmpfs (these tests run as root); where mount is not allowed they
are skipped with the reason."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import websocket
from faultserver import FaultHub
from serverproc import REPO, MiB, ServerProcess, local_model, write_catalog
from test_server_api import wait_downloaded
from waiting import size_of, wait_for
from wsframes import progress_url, read_frames

FAST_RETRY = ["--stall-timeout", "0.5", "--retry-backoff", "0.05"]


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(path: Path) -> None:
    """Write ``path`` until the file system is full."""
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


def failed_start(data_dir: Path, catalog: Path) -> str:
    """Start a server that must not start: its stderr (it printed nothing on stdout)."""
    args = ["--port", "0", "--data-dir", str(data_dir), "--catalog", str(catalog)]
    started = subprocess.run(
        [sys.executable, "-m", "pieces_widget.server", *args],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert started.returncode != 0 and started.stdout == "", started
    return started.stderr


def test_not_enough_disk_is_refused_before_any_byte(tmp_path: Path, small_fs: Path) -> None:
    hub = FaultHub(12 * MiB)
    try:
        catalog = write_catalog(tmp_path / "c.json", [{"id": "big", "source": hub.source()}])
        with ServerProcess(small_fs, catalog) as server:
            answer = requests.post(f"{server.url}/model/big/download", timeout=5)
            assert answer.status_code == 500
            assert answer.text.startswith("not enough disk space: needs 12.6 MB, ")
            assert answer.text.endswith(" free") and "8." in answer.text
            assert hub.seen == [] and list((server.data_dir / "models").iterdir()) == []
            assert requests.get(f"{server.url}/model/big", timeout=5).json()["downloading"] is False
    finally:
        hub.close()


def test_disk_full_mid_transfer_and_state_writes(tmp_path: Path, small_fs: Path) -> None:
    hub = FaultHub(6 * MiB)
    hub.plan = [("stall", 1 * MiB)]  # while it stalls, the test fills the disk
    catalog = write_catalog(
        tmp_path / "c.json", [{"id": "m", "name": "M", "custom": True, "source": hub.source()}]
    )
    try:
        with ServerProcess(small_fs, catalog, extra_args=FAST_RETRY) as server:
            url = server.url
            requests.post(f"{url}/model/update", json={"id": "m", "name": "Before"}, timeout=5)
            state = (server.data_dir / "state.json").read_bytes()
            ws = websocket.create_connection(progress_url(url, "m"), timeout=5)
            requests.post(f"{url}/model/m/download", timeout=5)
            part = next_part(server.data_dir)
            wait_for(lambda: size_of(part) >= MiB, timeout=10, message="1 MiB in the .part")
            fill(small_fs / "filler")
            frames, closed = read_frames(ws, timeout=20)
            last = frames[-1][1]
            assert closed and last["status"] == "FAILED", frames[-3:]
            assert (
                last["error"].startswith("disk full after ")
                and "partial file was removed" in (last["error"])
            )
            assert last["percentage"] == 0  # what is on disk now, not what was received
            assert not part.exists()
            model = requests.get(f"{url}/model/m", timeout=5).json()
            assert model["error"] == last["error"] and "partialBytes" not in model
            # State writes on the full disk: a clear 500, the old file intact, no temp file.
            fill(small_fs / "filler2")
            edit = requests.post(
                f"{url}/model/update", json={"id": "m", "name": "After"}, timeout=5
            )
            assert edit.status_code == 500 and "disk full" in edit.text, edit.text
            assert (server.data_dir / "state.json").read_bytes() == state
            assert [p.name for p in server.data_dir.iterdir() if p.suffix == ".tmp"] == []
            assert requests.get(f"{url}/model/m", timeout=5).json()["name"] == "Before"
            # Free the space: the download runs to the end, and the error is gone.
            (small_fs / "filler").unlink()
            (small_fs / "filler2").unlink()
            requests.post(f"{url}/model/m/download", timeout=5)
            model = wait_downloaded(url, "m", timeout=20)
            assert "error" not in model
    finally:
        hub.close()


def next_part(data_dir: Path, timeout: float = 5) -> Path:
    parts = (data_dir / "models").glob
    return wait_for(lambda: next(parts("*.part"), None), timeout, message="a .part file")


def test_read_only_data_dir(tmp_path: Path, small_fs: Path) -> None:
    hub = FaultHub(1 * MiB)
    catalog = write_catalog(
        tmp_path / "c.json", [{"id": "m", "name": "M", "custom": True, "source": hub.source()}]
    )
    (small_fs / "models").mkdir()
    remount(small_fs, "ro")
    try:
        with ServerProcess(small_fs, catalog) as server:
            assert "is read-only: downloads and edits will fail" in server.log()
            ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
            requests.post(f"{server.url}/model/m/download", timeout=5)
            frames, _ = read_frames(ws, timeout=10)
            assert frames[-1][1]["status"] == "FAILED"
            assert frames[-1][1]["error"].startswith("the data directory is read-only"), frames
            edit = requests.post(
                f"{server.url}/model/update", json={"id": "m", "name": "X"}, timeout=5
            )
            assert edit.status_code == 500 and "read-only" in edit.text, edit.text
        # A server that cannot even make its directory there says so in one line.
        stderr = failed_start(small_fs / "other", catalog)
        assert stderr.count("\n") == 1 and "read-only" in stderr, stderr
    finally:
        remount(small_fs, "rw")
        hub.close()


@contextmanager
def undeletable(folder: Path, how: str) -> Iterator[None]:
    """Files in ``folder`` cannot be removed, even by root: ``"immutable"`` (chattr +i: EPERM)
    or ``"read-only"`` (a read-only bind mount: EROFS). Skips where the system does not allow it."""
    if how == "immutable":
        on, off = [["chattr", "+i", str(folder)]], [["chattr", "-i", str(folder)]]
    else:
        on = [["mount", "--bind", str(folder), str(folder)]]
        on.append(["mount", "-o", "remount,bind,ro", str(folder)])
        off = [["umount", "-l", str(folder)]]
    for step, command in enumerate(on):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            for undo in off[: min(step, 1)]:
                subprocess.run(undo, check=False)
            pytest.skip(f"cannot make {how} files here: {done.stderr.strip()}")
    try:
        yield
    finally:
        for undo in off:
            subprocess.run(undo, check=False)


def test_weights_that_cannot_be_deleted(tmp_path: Path) -> None:
    """delete/cache answers one plain 500 line; a custom model whose files cannot go is not
    deleted at all (files first, then its record); nothing reaches the log as a traceback."""
    catalog = write_catalog(
        tmp_path / "c.json", [local_model("m", 64 * 1024, name="M", custom=True)]
    )
    with ServerProcess(tmp_path / "data", catalog) as server:
        url, models = server.url, server.data_dir / "models"
        requests.post(f"{url}/model/m/download", timeout=5)
        wait_downloaded(url, "m")
        for how, reason in (
            ("immutable", f"permission denied writing to {models}"),
            ("read-only", f"the data directory is read-only ({models})"),
        ):
            with undeletable(models, how):
                cache = requests.post(f"{url}/models/m/delete/cache", timeout=5)
                assert (cache.status_code, cache.text) == (
                    500,
                    f"cannot delete the weights of 'm': {reason}",
                ), how
                gone = requests.post(f"{url}/models/m/delete", timeout=5)
                assert (gone.status_code, gone.text) == (500, f"cannot delete 'm': {reason}"), how
                model = requests.get(f"{url}/model/m", timeout=5).json()
                assert model["downloaded"] is True, how  # still listed, weights intact
                assert [
                    m["id"] for m in requests.get(f"{url}/models", timeout=5).json()["iterable"]
                ] == ["m"]
        assert requests.post(f"{url}/models/m/delete", timeout=5).status_code == 204
        assert requests.get(f"{url}/model/m", timeout=5).status_code == 410
        assert list(models.iterdir()) == []
    assert "Traceback" not in server.log() and "Error handling request" not in server.log()


def test_hub_blobs_that_do_not_fit_stop_the_start_in_one_line(
    tmp_path: Path, small_fs: Path
) -> None:
    catalog = write_catalog(tmp_path / "c.json", [local_model("big", 12 * MiB)])
    blob = "big-12582912.bin"
    assert failed_start(small_fs, catalog) == (
        f"error: catalog entry 0 ('big'): cannot generate the hub blob {blob}: disk full\n"
    )
    assert list((small_fs / "hub").iterdir()) == []  # no half-written .tmp blob
