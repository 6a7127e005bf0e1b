"""A DownloadJob whose Pieces OS dies mid-download (SIGKILL) and comes back on the same data dir
and port: the job asks again and the server resumes with Range from its kept ``.part``; a cancel
stays final; a job with no resume left says what happened and that the partial is kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from serverproc import REPO, MiB, ServerProcess, write_catalog
from test_server_transfers import hub_digest, hub_requests, weights_digest
from waiting import wait_for

from pieces_widget import DownloadJob, PiecesClient

BLOB = "medium-25165824.bin"  # 24 MiB at the fixture's 8 MiB/s: about 3 s
QUICK = (0.05, 0.3)  # reconnect delays (first, longest): a restart is noticed at once


def kill_mid_download(server: ServerProcess) -> int:
    """SIGKILL the server once some MiB are on disk, far from the end; the partial's size."""
    parts = (server.data_dir / "models").glob
    wait_for(
        lambda: any(p.stat().st_size > 2 * MiB for p in parts("*.part")),
        timeout=10,
        message="2 MiB on disk",
    )
    server.kill()
    (part,) = (server.data_dir / "models").glob("*.part")
    size = part.stat().st_size
    assert 0 < size < 24 * MiB
    return size


def test_a_restart_mid_download_resumes_with_range(server: ServerProcess) -> None:
    job = DownloadJob(PiecesClient(server.url), "medium", backoff=QUICK)
    part = kill_mid_download(server)
    server.start()  # same data dir, same port
    began = time.monotonic()
    assert job.wait(30) == "COMPLETED", job.error
    assert time.monotonic() - began < 10
    assert job.resumes == 1 and job.error is None and job.bytes_done == 24 * MiB
    # The killed server never logged its GET; the restarted one served one resume, from the part.
    assert hub_requests(server, BLOB) == [f"bytes={part}-"]
    assert weights_digest(server) == hub_digest(server, BLOB)
    job.stop()


def test_the_time_away_does_not_count_as_a_stall(server: ServerProcess) -> None:
    job = DownloadJob(PiecesClient(server.url), "medium", backoff=QUICK, stall_after=0.5)
    try:
        kill_mid_download(server)
        time.sleep(0.8)  # a sleep on purpose: the time away is the test; longer than stall_after
        server.start()
        wait_for(lambda: job.resumes or job.done, timeout=10, interval=0.005, message="a resume")
        assert job.resumes and not job.done, job.error
        assert not job.stalled, f"stalled for {job.stalled_for:.1f} s right after the resume"
        assert job.wait(30) == "COMPLETED", job.error
    finally:
        job.stop()


def test_a_cancel_while_the_server_is_down_stays_final(server: ServerProcess) -> None:
    job = DownloadJob(PiecesClient(server.url), "medium", backoff=QUICK)
    kill_mid_download(server)
    job.cancel()  # cannot reach the server: said in the job, and remembered
    assert job.error is not None and "reach" in job.error
    server.start()
    assert job.wait(15) == "CANCELED"
    time.sleep(0.3)  # a sleep on purpose: a wrong resume would have reached the hub by now
    model = PiecesClient(server.url).snapshot("medium")
    assert not model.downloading and not model.downloaded and job.resumes == 0
    assert hub_requests(server, BLOB) == []  # never asked again
    job.stop()


def test_no_resume_left_says_so_and_keeps_the_partial(server: ServerProcess) -> None:
    job = DownloadJob(PiecesClient(server.url), "medium", backoff=QUICK, max_resumes=0)
    part = kill_mid_download(server)
    server.start()
    assert job.wait(15) == "FAILED"
    kept = part * 100 // (24 * MiB)
    assert job.error == (
        f"Pieces OS restarted during the download; {kept} % is kept, "
        "downloading it again resumes from there."
    )
    model = PiecesClient(server.url).snapshot("medium")
    assert model.raw["partialBytes"] == part and not model.downloading
    job.stop()


def test_a_resume_the_server_refuses_says_why(server: ServerProcess, tmp_path: Path) -> None:
    job = DownloadJob(PiecesClient(server.url), "medium", backoff=QUICK)
    kill_mid_download(server)
    server.catalog = write_catalog(tmp_path / "cloud.json", [{"id": "medium", "cloud": True}])
    server.start()  # back with a catalog where "medium" is a cloud model
    assert job.wait(15) == "FAILED"
    assert job.error == (
        "Pieces OS restarted during the download, then refused it (Pieces OS failed: "
        "'medium' is a cloud model: cloud models are not downloaded); download it again to "
        "start over."  # no partialBytes reported: no resume is promised
    )
    job.stop()


def test_a_pull_whose_server_comes_back_completes(server: ServerProcess) -> None:
    """The CLI's pull runs the same job: a restart within ``--give-up-after`` is survived."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pieces_widget", "pull", "medium", "--give-up-after", "20",
         "--url", server.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=env,
    )  # fmt: skip
    kill_mid_download(server)
    server.start()
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, (out, err)
    assert "medium: downloaded" in out and err == ""
    assert len(hub_requests(server, BLOB)) == 1  # the resume
