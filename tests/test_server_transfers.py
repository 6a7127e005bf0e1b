"""Real transfers: progress WebSocket, resume with Range, crash recovery, checksums, sharing."""

from __future__ import annotations

import hashlib
import re
import threading
import time

import requests
import websocket
from serverproc import MiB, ServerProcess
from test_server_api import wait_downloaded
from waiting import size_of, wait_for
from wsframes import progress_url, read_frames


def weights_digest(server: ServerProcess) -> str:
    (weights,) = (server.data_dir / "models").glob("*.bin")
    return hashlib.sha256(weights.read_bytes()).hexdigest()


def hub_digest(server: ServerProcess, blob: str) -> str:
    return (server.data_dir / "hub" / f"{blob}.sha256").read_text().strip()


def part_bytes(server: ServerProcess) -> int:
    """The bytes in the data dir's ``.part`` files (0 while there is none)."""
    return sum(size_of(part) for part in (server.data_dir / "models").glob("*.part"))


def hub_requests(server: ServerProcess, blob: str) -> list[str]:
    """The Range header of each GET the hub served for ``blob`` (from the access log)."""
    return re.findall(rf'"GET /hub/{re.escape(blob)} HTTP/1.1" \d+ \d+ Range:(\S+)', server.log())


def test_progress_frames_from_start_to_completed(server: ServerProcess) -> None:
    ws = websocket.create_connection(progress_url(server.url, "medium"), timeout=5)
    requests.post(f"{server.url}/model/medium/download", timeout=5)
    frames, closed = read_frames(ws)
    assert closed, "the server closes the socket after the terminal frame"
    statuses = [f["status"] for _, f in frames]
    percents = [f["percentage"] for _, f in frames]
    assert statuses[-1] == "COMPLETED" and percents[-1] == 100
    assert set(statuses[:-1]) <= {"INITIALIZED", "IN-PROGRESS"}
    assert percents == sorted(percents), "never backwards"
    assert len({p for p in percents if 0 < p < 100}) >= 5, "intermediate values"
    # At most ~10 frames per second on one socket (3 s at 8 MiB/s).
    span = frames[-1][0] - frames[0][0]
    assert len(frames) <= 10 * span + 3
    assert weights_digest(server) == hub_digest(server, "medium-25165824.bin")


def test_socket_sends_current_state_on_connect(server: ServerProcess) -> None:
    requests.post(f"{server.url}/model/medium/download", timeout=5)
    wait_for(lambda: part_bytes(server), message="bytes on disk")
    ws = websocket.create_connection(progress_url(server.url, "medium"), timeout=5)
    ws.settimeout(0.5)
    first = ws.recv()
    assert '"IN-PROGRESS"' in first
    ws.close()


def test_socket_is_silent_until_a_download_starts(server: ServerProcess) -> None:
    ws = websocket.create_connection(progress_url(server.url, "small"), timeout=5)
    ws.settimeout(0.7)
    try:
        ws.recv()
        raise AssertionError("no frame expected before the download starts")
    except websocket.WebSocketTimeoutException:
        pass
    requests.post(f"{server.url}/model/small/download", timeout=5)
    frames, closed = read_frames(ws)
    assert closed and frames[-1][1]["status"] == "COMPLETED"


def test_cancel_then_resume_uses_range(server: ServerProcess) -> None:
    url = server.url
    ws = websocket.create_connection(progress_url(url, "medium"), timeout=5)
    requests.post(f"{url}/model/medium/download", timeout=5)
    wait_for(lambda: part_bytes(server), message="bytes on disk")
    sent = time.monotonic()
    requests.post(f"{url}/model/medium/download/cancel", timeout=5)
    frames, closed = read_frames(ws)
    assert closed and frames[-1][1]["status"] == "CANCELED"
    assert frames[-1][0] - sent < 0.5, "CANCELED within 0.5 s of the request"
    part_size = next((server.data_dir / "models").glob("*.part")).stat().st_size
    assert 0 < part_size < 24 * MiB
    requests.post(f"{url}/model/medium/download", timeout=5)
    wait_downloaded(url, "medium")
    ranges = hub_requests(server, "medium-25165824.bin")
    assert ranges[-1] == f"bytes={part_size}-", ranges
    assert weights_digest(server) == hub_digest(server, "medium-25165824.bin")
    assert not list((server.data_dir / "models").glob("*.part"))


def test_a_canceled_throttled_download_leaves_no_traceback(server: ServerProcess) -> None:
    """The throttled hub sees its client leave on every Cancel: it stops quietly."""
    requests.post(f"{server.url}/model/medium/download", timeout=5)
    wait_for(
        lambda: "partialBytes" in requests.get(f"{server.url}/model/medium", timeout=5).json(),
        message="partialBytes reported",
    )
    requests.post(f"{server.url}/model/medium/download/cancel", timeout=5)
    wait_for(  # logged once the handler ends
        lambda: hub_requests(server, "medium-25165824.bin"), 5, message="the hub's GET logged"
    )
    assert "Error handling request" not in server.log()
    assert "Traceback" not in server.log()


def test_sigkill_mid_download_then_restart_resumes(server: ServerProcess) -> None:
    requests.post(f"{server.url}/model/medium/download", timeout=5)
    wait_for(lambda: part_bytes(server) > MiB, message="1 MiB on disk")
    server.kill()
    part = next((server.data_dir / "models").glob("*.part"))
    part_size = part.stat().st_size
    assert part_size > 0
    server.start()
    model = requests.get(f"{server.url}/model/medium", timeout=5).json()
    assert model["downloaded"] is False and model["downloading"] is False
    requests.post(f"{server.url}/model/medium/download", timeout=5)
    wait_downloaded(server.url, "medium")
    assert f"bytes={part_size}-" in hub_requests(server, "medium-25165824.bin")
    assert weights_digest(server) == hub_digest(server, "medium-25165824.bin")


def test_checksum_mismatch_fails_and_leaves_no_file(server: ServerProcess) -> None:
    ws = websocket.create_connection(progress_url(server.url, "badsum"), timeout=5)
    requests.post(f"{server.url}/model/badsum/download", timeout=5)
    frames, closed = read_frames(ws)
    assert closed and frames[-1][1]["status"] == "FAILED"
    model = requests.get(f"{server.url}/model/badsum", timeout=5).json()
    assert model["downloaded"] is False and model["downloading"] is False
    assert not list((server.data_dir / "models").iterdir())
    assert "checksum mismatch" in server.log()


def test_concurrent_requests_share_one_transfer(server: ServerProcess) -> None:
    results: list[int] = []

    def ask() -> None:
        results.append(requests.post(f"{server.url}/model/small/download", timeout=5).status_code)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 8
    wait_downloaded(server.url, "small")
    assert len(hub_requests(server, "small-4194304.bin")) == 1


def test_two_sockets_see_the_same_end(server: ServerProcess) -> None:
    sockets = [
        websocket.create_connection(progress_url(server.url, "small"), timeout=5) for _ in "ab"
    ]
    requests.post(f"{server.url}/model/small/download", timeout=5)
    for ws in sockets:
        frames, closed = read_frames(ws)
        assert closed and frames[-1][1] == {"status": "COMPLETED", "percentage": 100.0}
