"""The data directory is the only place written, hub files too (issue 18, point 10): symlinks
planted in the hub cannot redirect a write (or a read) outside it, and a digest cache that does
not read as a digest (empty after a crash) is recomputed, never trusted."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests
from serverproc import ServerProcess, local_model, write_catalog
from test_server_api import wait_downloaded

SIZE = 64 * 1024
BLOB = f"m-{SIZE}.bin"
MAKE = {"PIECES_HUB_CACHE": ""}  # no shared blobs (tests/conftest.py): each server makes its own


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "c.json", [local_model("m", SIZE)])


def precious(path: Path, size: int = SIZE) -> bytes:
    content = (b"precious " * (size // 9 + 1))[:size]
    path.write_bytes(content)
    return content


def check_download(server: ServerProcess) -> None:
    requests.post(f"{server.url}/model/m/download", timeout=5)
    model = wait_downloaded(server.url, "m")
    assert "error" not in model
    (weights,) = (server.data_dir / "models").glob("*.bin")
    blob = server.data_dir / "hub" / BLOB
    assert weights.read_bytes() == blob.read_bytes()
    digest = (server.data_dir / "hub" / f"{BLOB}.sha256").read_text().strip()
    assert digest == hashlib.sha256(blob.read_bytes()).hexdigest()


@pytest.mark.parametrize("planted", [".tmp", ".sha256", "blob"])
def test_planted_symlinks_redirect_nothing(tmp_path: Path, catalog: Path, planted: str) -> None:
    hub = tmp_path / "data" / "hub"
    hub.mkdir(parents=True)
    outside = tmp_path / "outside.bin"
    content = precious(outside)
    if planted == ".tmp":  # where the blob is written before its rename
        (hub / f"{BLOB}.tmp").symlink_to(outside)
    elif planted == ".sha256":  # the digest cache
        (hub / f"{BLOB}.sha256").symlink_to(outside)
    else:  # the blob itself, with a cache that would describe it
        (hub / BLOB).symlink_to(outside)
        (hub / f"{BLOB}.sha256").write_text(hashlib.sha256(content).hexdigest() + "\n")
    with ServerProcess(tmp_path / "data", catalog, env=MAKE) as server:
        assert outside.read_bytes() == content
        for name in (BLOB, f"{BLOB}.sha256"):
            assert not (hub / name).is_symlink(), name
        served = requests.get(f"{server.url}/hub/{BLOB}", timeout=5).content
        assert served != content and len(served) == SIZE
        check_download(server)
    assert outside.read_bytes() == content


@pytest.mark.parametrize("cache", [b"", b"0123", b"not a digest at all\n"])
def test_a_digest_cache_that_does_not_parse_is_recomputed(
    tmp_path: Path, catalog: Path, cache: bytes
) -> None:
    with ServerProcess(tmp_path / "data", catalog, env=MAKE) as server:
        pass
    digest_file = server.data_dir / "hub" / f"{BLOB}.sha256"
    digest_file.write_bytes(cache)  # a crash right after the file was created, or worse
    with server:  # starts it again
        check_download(server)


def test_a_shared_blob_is_linked_not_made_again(tmp_path: Path, catalog: Path) -> None:
    """With PIECES_HUB_CACHE, the first server makes the blob and shares it; the next one's hub
    holds the same file (a hard link), renamed over a symlink planted there, never through it."""
    shared = {"PIECES_HUB_CACHE": str(tmp_path / "shared")}
    (tmp_path / "shared").mkdir()
    with ServerProcess(tmp_path / "a", catalog, env=shared) as first:
        check_download(first)
    made = first.data_dir / "hub" / BLOB
    hub = tmp_path / "b" / "hub"
    hub.mkdir(parents=True)
    outside = tmp_path / "outside.bin"
    content = precious(outside)
    (hub / BLOB).symlink_to(outside)
    with ServerProcess(tmp_path / "b", catalog, env=shared) as second:
        linked = hub / BLOB
        assert not linked.is_symlink() and linked.stat().st_ino == made.stat().st_ino
        assert linked.stat().st_nlink == 3  # a's hub, the shared directory, b's hub
        check_download(second)
    assert outside.read_bytes() == content
