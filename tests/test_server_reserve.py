"""Disk space is reserved, not just checked (issue 18, point 9): a download starts only if the
disk holds it besides what the downloads in flight still have to write. Three 10 MiB downloads
on a 24 MiB disk: two start and succeed, the third is refused up front in plain words.

The data directory is a small tmpfs (these tests run as root); where mount is not allowed they
are skipped with the reason."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hostile_source import HostileSource, blob_of
from serverproc import MiB, ServerProcess, write_catalog
from waiting import wait_for


@pytest.fixture
def disk_24m(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_downloads_in_flight_hold_their_space(tmp_path: Path, disk_24m: Path) -> None:
    source = HostileSource(blob_of(10 * MiB, "ten"))
    catalog = write_catalog(tmp_path / "c.json", [])
    try:
        with ServerProcess(disk_24m, catalog, extra_args=["--stall-timeout", "20"]) as server:
            url = server.url
            ids = []
            for name in "ABC":
                body = {
                    "name": name,
                    "source": {
                        "url": source.url,
                        "bytes": len(source.blob),
                        "sha256": source.sha256,
                    },
                }
                ids.append(requests.post(f"{url}/models/create", json=body, timeout=5).json()["id"])
            source.hold(1 * MiB)
            for model_id in ids[:2]:
                assert requests.post(f"{url}/model/{model_id}/download", timeout=5).ok
            wait_for(
                lambda: all(
                    requests.get(f"{url}/model/{i}", timeout=5).json().get("partialBytes", 0) >= MiB
                    for i in ids[:2]
                ),
                10,
                message="1 MiB of each of the two downloads",
            )
            third = requests.post(f"{url}/model/{ids[2]}/download", timeout=5)
            assert third.status_code == 500, third.text
            assert third.text.startswith("not enough disk space: needs 10.5 MB, "), third.text
            assert "2 downloads in flight still need 18.9 MB" in third.text, third.text
            assert len(source.headers_of("GET")) == 2
            assert requests.get(f"{url}/model/{ids[2]}", timeout=5).json()["downloading"] is False
            source.release()

            def both_downloaded() -> bool:
                models = [requests.get(f"{url}/model/{i}", timeout=5).json() for i in ids[:2]]
                assert not [m for m in models if "error" in m], models
                return all(m["downloaded"] for m in models)

            wait_for(both_downloaded, 20, message="both downloads done")
    finally:
        source.close()
