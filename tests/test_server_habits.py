"""The reference server's options that reproduce Pieces OS's habits (``habits.py``), each over
real HTTP and WebSockets: a slow start, sparse frames, no snapshot, a socket kept open, a cancel
that discards the partial, RESET and UNKNOWN frames, another version, no capabilities."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from serverproc import MiB, ServerProcess, local_model, server_starter
from test_server_api import wait_downloaded
from test_server_transfers import hub_digest, hub_requests, weights_digest
from waiting import wait_for
from wsframes import progress_url, read_frames

from pieces_widget.server.__main__ import habits_of, parse_args
from pieces_widget.server.habits import PIECES_OS, Habits

BLOB = "m-4194304.bin"
Frames = list[tuple[float, dict[str, Any]]]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start a server with one 4 MiB local model ``m`` (and ``n``) and the given options."""
    yield from server_starter(
        tmp_path, [local_model("m", 4 * MiB), local_model("n", 4 * MiB)], hub_rate=4 * MiB
    )


def frames_until(
    ws: websocket.WebSocket, done: Callable[[dict[str, Any]], bool], timeout: float = 15
) -> Frames:
    """Frames with their arrival time up to the first that ``done`` accepts (the socket stays
    open); AssertionError if the server closes or time runs out first."""
    frames: Frames = []
    deadline = time.monotonic() + timeout
    ws.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            continue
        assert opcode != websocket.ABNF.OPCODE_CLOSE, f"closed by the server after {frames}"
        frames.append((time.monotonic(), json.loads(data)))
        if done(frames[-1][1]):
            return frames
    raise AssertionError(f"no such frame within {timeout} s: {frames}")


def silent_for(ws: websocket.WebSocket, seconds: float) -> bool:
    ws.settimeout(seconds)
    try:
        ws.recv()
    except websocket.WebSocketTimeoutException:
        return True
    return False


def model(server: ServerProcess, model_id: str = "m") -> dict[str, Any]:
    return requests.get(f"{server.url}/model/{model_id}", timeout=5).json()


def post(server: ServerProcess, action: str, model_id: str = "m") -> dict[str, Any]:
    response = requests.post(f"{server.url}/model/{model_id}/{action}", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def ended(frame: dict[str, Any]) -> bool:
    return frame["status"] in ("COMPLETED", "FAILED", "CANCELED")


def test_start_delay_initialized_frames_then_the_transfer(
    start: Callable[..., ServerProcess],
) -> None:
    server = start("--start-delay", "1.6", hub_rate=16 * MiB)
    early = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    posted = time.monotonic()
    assert post(server, "download")["downloading"] is False
    assert post(server, "download")["downloading"] is False  # joins the pending one
    assert model(server)["downloading"] is False
    assert (
        next(m for m in requests.get(f"{server.url}/models", timeout=5).json()["iterable"])[
            "downloading"
        ]
        is False
    )
    late = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    late.settimeout(1)
    assert json.loads(late.recv()) == {"status": "INITIALIZED"}  # on connect, no percentage
    frames = frames_until(early, lambda f: "percentage" in f)
    waiting = [t for t, f in frames if f == {"status": "INITIALIZED"}]
    assert len(waiting) >= 2, "one INITIALIZED at the start, another ~1 s later"
    assert 0.7 < waiting[1] - waiting[0] < 1.4
    assert frames[-1][0] - posted > 1.4, "the transfer began after the delay"
    wait_for(
        lambda: model(server)["downloading"],
        timeout=posted + 5 - time.monotonic(),
        message="downloading within 5 s of the POST",
    )
    frames, _ = read_frames(early)
    assert frames[-1][1] == {"status": "COMPLETED", "percentage": 100.0}
    assert len(hub_requests(server, BLOB)) == 1, "the two POSTs shared one transfer"
    assert weights_digest(server) == hub_digest(server, BLOB)
    late.close()


def test_a_cancel_during_the_start_delay_ends_it(start: Callable[..., ServerProcess]) -> None:
    server = start("--start-delay", "0.5")
    ws = websocket.create_connection(progress_url(server.url, "n"), timeout=5)
    post(server, "download", "n")
    assert json.loads(ws.recv()) == {"status": "INITIALIZED"}
    sent = time.monotonic()
    canceled = post(server, "download/cancel", "n")
    assert canceled["downloading"] is False and canceled["downloaded"] is False
    frames, closed = read_frames(ws, timeout=5)
    assert closed and frames[-1][1]["status"] == "CANCELED"
    assert frames[-1][0] - sent < 0.5
    time.sleep(0.8)  # a sleep on purpose: past the 0.5 s delay, nothing starts
    assert not model(server, "n")["downloading"]
    assert not hub_requests(server, "n-4194304.bin") and "GET /hub/" not in server.log()


def test_frame_interval_spaces_the_frames(start: Callable[..., ServerProcess]) -> None:
    server = start("--frame-interval", "0.6", hub_rate=3 * MiB)
    ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    post(server, "download")
    frames, closed = read_frames(ws)
    assert closed and frames[-1][1]["status"] == "COMPLETED"
    times = [t for t, f in frames if f["status"] != "COMPLETED"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) >= 1 and min(gaps) > 0.5, gaps  # today's cap alone would allow 0.1 s
    assert len([f for _, f in frames if 0 < f["percentage"] < 100]) >= 2, "the bar moves"


def test_no_snapshot_sends_only_the_next_change(start: Callable[..., ServerProcess]) -> None:
    server = start("--no-snapshot", "--start-delay", "1.5")
    post(server, "download")
    ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    assert silent_for(ws, 0.6), "no current state on connect"
    assert frames_until(ws, lambda f: True)[0][1] == {"status": "INITIALIZED"}  # the periodic one
    ws.close()
    # A socket that waits for a download gets its first frame: the start is a change.
    ws = websocket.create_connection(progress_url(server.url, "n"), timeout=5)
    post(server, "download", "n")
    ws.settimeout(1)
    assert json.loads(ws.recv()) == {"status": "INITIALIZED"}
    ws.close()


def test_keep_socket_open_streams_the_next_download(start: Callable[..., ServerProcess]) -> None:
    server = start("--keep-socket-open", hub_rate=16 * MiB)
    ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    post(server, "download")
    assert frames_until(ws, ended)[-1][1]["status"] == "COMPLETED"
    assert silent_for(ws, 0.5), "still open, nothing to say"
    requests.post(f"{server.url}/models/m/delete/cache", json={}, timeout=5)
    post(server, "download")
    frames = frames_until(ws, ended)
    assert frames[0][1]["status"] in ("INITIALIZED", "IN-PROGRESS")
    assert frames[-1][1] == {"status": "COMPLETED", "percentage": 100.0}
    ws.close()


def test_cancel_discards_the_partial(start: Callable[..., ServerProcess]) -> None:
    server = start("--cancel-discards")
    ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    post(server, "download")
    frames_until(ws, lambda f: (f.get("percentage") or 0) > 10)
    assert "partialBytes" not in model(server), "not even while downloading"
    assert post(server, "download/cancel").get("partialBytes") is None
    assert frames_until(ws, ended)[-1][1]["status"] == "CANCELED"
    assert not list((server.data_dir / "models").glob("*.part"))
    assert "partialBytes" not in model(server)
    post(server, "download")
    wait_downloaded(server.url, "m")
    assert hub_requests(server, BLOB) == ["-", "-"], "both from byte 0, no Range"
    assert weights_digest(server) == hub_digest(server, BLOB)


def test_reset_starts_over_once(start: Callable[..., ServerProcess]) -> None:
    server = start("--reset-at", "60")
    ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    post(server, "download")
    frames, closed = read_frames(ws)
    statuses = [f["status"] for _, f in frames]
    assert closed and statuses[-1] == "COMPLETED" and statuses.count("RESET") == 1, statuses
    at = statuses.index("RESET")
    before = [f["percentage"] for _, f in frames[:at]]
    after = [f.get("percentage") for _, f in frames[at + 1 : -1]]
    assert frames[at][1] == {"status": "RESET", "percentage": 0}
    assert max(before) >= 40 and after and min(after) < 40, (before, after)  # back, then up
    assert hub_requests(server, BLOB) == ["-", "-"], "the second request from byte 0"
    assert weights_digest(server) == hub_digest(server, BLOB)


def test_unknown_frames_between_the_normal_ones(start: Callable[..., ServerProcess]) -> None:
    server = start("--unknown-every", "0.25")
    ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    post(server, "download")
    frames, closed = read_frames(ws)
    unknown = [i for i, (_, f) in enumerate(frames) if f["status"] == "UNKNOWN"]
    assert closed and frames[-1][1]["status"] == "COMPLETED"
    assert len(unknown) >= 2 and all(frames[i][1] == {"status": "UNKNOWN"} for i in unknown)
    assert unknown[0] > 0 and unknown[-1] < len(frames) - 2, "between normal frames"
    percents = [f["percentage"] for _, f in frames if f["status"] == "IN-PROGRESS"]
    assert percents == sorted(percents) and weights_digest(server) == hub_digest(server, BLOB)


def test_defaults_are_unchanged() -> None:
    args = parse_args(["--data-dir", "x"])
    assert habits_of(args) == Habits()
    assert Habits().frame_interval == 0.1 and Habits().snapshot and Habits().version == "11.0.0"
    assert args.without_ollama is False and args.ollama_update_required is None


def test_the_preset_and_what_overrides_it() -> None:
    assert habits_of(parse_args(["--data-dir", "x", "--pieces-os-habits"])) == PIECES_OS
    expected = Habits(
        start_delay=3,
        frame_interval=2,
        snapshot=False,
        keep_socket_open=True,
        cancel_discards=True,
        as_pieces_os=True,
    )
    assert expected == PIECES_OS
    given = ["--data-dir", "x", "--pieces-os-habits", "--start-delay", "0.5", "--reset-at", "50"]
    habits = habits_of(parse_args(given))
    assert habits.start_delay == 0.5 and habits.reset_at == 50 and habits.frame_interval == 2


def test_bad_values_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--data-dir", "x", "--reset-at", "100"])
    assert "--reset-at must be a percentage" in capsys.readouterr().err


def test_pieces_os_habits_preset_end_to_end(start: Callable[..., ServerProcess]) -> None:
    server = start(
        "--pieces-os-habits", "--start-delay", "0.5", "--version-string", "10.1.4", hub_rate=8 * MiB
    )
    assert requests.get(f"{server.url}/.well-known/capabilities", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/.well-known/version", timeout=5).text == "10.1.4"
    assert requests.get(f"{server.url}/.well-known/health", timeout=5).text.startswith("ok:")
    ws = websocket.create_connection(progress_url(server.url, "m"), timeout=5)
    assert post(server, "download")["downloading"] is False
    frames = frames_until(ws, ended)
    assert frames[0][1] == {"status": "INITIALIZED"} and frames[-1][1]["status"] == "COMPLETED"
    assert silent_for(ws, 0.3), "the socket stays open"
    ws.close()
