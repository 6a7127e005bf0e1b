"""DownloadJob against the real reference server: wait, cancel, attach, speed, stall, timeouts."""

from __future__ import annotations

import json
import re
import time

import pytest
from faultserver import FaultServer
from serverproc import MiB, ServerProcess
from waiting import wait_for

from pieces_widget import DownloadJob, PiecesClient
from pieces_widget.core.job_state import RateWindow
from pieces_widget.core.models import NO_REASON
from pieces_widget.widget.wire import download_entry


def test_download_reports_bytes_speed_eta(server: ServerProcess) -> None:
    snapshots: list[dict] = []
    job = DownloadJob(
        PiecesClient(server.url), "medium", on_update=lambda j: snapshots.append(download_entry(j))
    )
    began = time.monotonic()
    assert job.wait(timeout=30) == "COMPLETED"
    assert job.done and job.percentage == 100 and job.bytes_done == 24 * MiB
    moving = [s for s in snapshots if s["status"] == "IN-PROGRESS" and s["speed"]]
    assert moving, "speed was reported while downloading"
    speeds = [s["speed"] for s in moving]
    assert 4 * MiB < sorted(speeds)[len(speeds) // 2] < 12 * MiB  # hub capped at 8 MiB/s
    assert any(s["eta"] is not None and s["eta"] > 0 for s in moving)
    assert time.monotonic() - began < 10
    job.stop()


def test_cancel(server: ServerProcess) -> None:
    job = DownloadJob(PiecesClient(server.url), "medium")
    wait_for(lambda: job.bytes_done, message="bytes downloaded")
    job.cancel()
    assert job.wait(timeout=3) == "CANCELED"
    assert 0 < (job.percentage or 0) < 100
    job.stop()


def test_second_job_attaches_instead_of_starting_another(server: ServerProcess) -> None:
    first = DownloadJob(PiecesClient(server.url), "medium")
    wait_for(lambda: first.bytes_done, message="the first download moving")
    second = DownloadJob(PiecesClient(server.url), "medium")
    assert first.wait(30) == "COMPLETED" and second.wait(30) == "COMPLETED"
    gets = re.findall(r'"GET /hub/medium-25165824.bin', server.log())
    posts = re.findall(r'"POST /model/medium/download HTTP', server.log())
    assert len(gets) == 1 and len(posts) == 1
    first.stop()
    second.stop()


def test_already_downloaded_completes_at_once(server: ServerProcess) -> None:
    client = PiecesClient(server.url)
    DownloadJob(client, "small").wait(30)
    job = DownloadJob(client, "small")
    assert job.wait(2) == "COMPLETED"


def test_failures_end_failed_with_a_reason(server: ServerProcess) -> None:
    client = PiecesClient(server.url)
    bad = DownloadJob(client, "badsum")
    assert bad.wait(15) == "FAILED"
    missing = DownloadJob(client, "no-such-model")
    assert missing.wait(5) == "FAILED" and "not found" in (missing.error or "")
    cloud = DownloadJob(client, "cloudy")
    assert cloud.wait(5) == "FAILED" and "cloud" in (cloud.error or "")
    assert repr(cloud) == f"<DownloadJob 'cloudy' FAILED, size unknown: {cloud.error}>"


def test_wait_timeout_raises(server: ServerProcess) -> None:
    job = DownloadJob(PiecesClient(server.url), "medium")
    with pytest.raises(TimeoutError, match="still"):
        job.wait(timeout=0.2)
    job.cancel()
    job.wait(3)
    job.stop()


def test_stall_decays_speed_to_zero(fault: FaultServer) -> None:
    fault.frames = [json.dumps({"status": "IN-PROGRESS", "percentage": p}) for p in (10, 20, 30)]
    fault.frame_interval = 0.3
    fault.close_after_frames = False  # then silence, while the model stays "downloading"
    job = DownloadJob(PiecesClient(fault.url), "m", stall_after=1.5, window=1.0)
    wait_for(lambda: job.stalled, timeout=8, message="the job stalled")
    assert download_entry(job)["stalled"] is True
    assert job.speed == 0 and job.eta is None and job.percentage == 30
    fault.model.update(downloaded=True, downloading=False)
    assert job.wait(8) == "COMPLETED" and not job.stalled
    job.stop()


def test_rate_window_decays_without_new_bytes() -> None:
    window = RateWindow(span=10)
    for t in range(11):
        window.add(float(t), t * 100)
    assert window.speed() == 100
    for t in range(11, 25):
        window.add(float(t), 1000)
    assert window.speed() == 0


@pytest.mark.parametrize(
    ("terminal", "reason"),
    [
        ({"status": "FAILED", "percentage": 40, "error": "disk full"}, "disk full"),
        ({"status": "FAILED", "percentage": 40}, NO_REASON),  # Pieces OS sends no reason
    ],
)
def test_failure_reason_reaches_the_job(fault: FaultServer, terminal: dict, reason: str) -> None:
    fault.frames = [json.dumps({"status": "IN-PROGRESS", "percentage": 40}), json.dumps(terminal)]
    job = DownloadJob(PiecesClient(fault.url), "m")
    assert job.wait(10) == "FAILED"
    assert job.error == reason and download_entry(job)["error"] == reason
    assert job.percentage == 40  # a failure never claims more than was reported


def test_a_job_whose_thread_raises_ends_failed(fault: FaultServer) -> None:
    class BrokenClient(PiecesClient):  # a fault no real server makes: a bug below the job
        def snapshot(self, model_id: str):  # type: ignore[override]
            raise KeyError("boom")

    job = DownloadJob(BrokenClient(fault.url), "m")
    assert job.wait(5) == "FAILED"
    assert job.error is not None and "KeyError" in job.error and "\n" not in job.error


@pytest.mark.parametrize(
    ("bad", "error"), [(None, TypeError), ("", ValueError), ("\udcff", ValueError), (7, TypeError)]
)
def test_bad_ids_fail_at_once_in_one_line(bad: object, error: type) -> None:
    client = PiecesClient("http://127.0.0.1:9")
    for call in (lambda: DownloadJob(client, bad), lambda: client.snapshot(bad)):  # type: ignore[arg-type]
        with pytest.raises(error) as info:
            call()
        assert "\n" not in str(info.value) and "subscriptable" not in str(info.value)
