"""The progress stream under faults: each ends in the right final status within a bounded time,
with no thread left behind (the autouse fixture in conftest checks that)."""

from __future__ import annotations

import json
import struct
import threading
import time

import requests
from faultserver import ChaosProxy, FaultServer
from serverproc import ServerProcess
from waiting import wait_for

from pieces_widget import DownloadJob, PiecesClient
from pieces_widget.core.models import DownloadProgress, Model
from pieces_widget.core.progress import ProgressStream
from pieces_widget.core.progress_state import ProgressTracker
from pieces_widget.core.stream_timing import StreamTiming

QUICK = StreamTiming(reconcile_every=0.3, idle_grace=0.5, poll_every=0.3, backoff=(0.1, 0.5))


def frame(status: str, percentage: object = None) -> str:
    return json.dumps({"status": status, "percentage": percentage})


def collect(client: PiecesClient, model_id: str, timeout: float = 15, **kwargs: object):
    seen: list[DownloadProgress] = []
    done = threading.Event()

    def on_progress(p: DownloadProgress) -> None:
        seen.append(p)
        if p.terminal:
            done.set()

    stream = ProgressStream(client, model_id, on_progress, **kwargs).start()  # type: ignore[arg-type]
    began = time.monotonic()
    assert done.wait(timeout), f"no terminal status; saw {seen}"
    elapsed = time.monotonic() - began
    stream.stop()
    assert not stream.alive
    return seen, elapsed, stream


def test_tracker_clamps_never_goes_back_and_ignores_after_end() -> None:
    tracker = ProgressTracker()
    assert tracker.accept(DownloadProgress("IN-PROGRESS", 40)).percentage == 40
    assert tracker.accept(DownloadProgress("IN-PROGRESS", 20)).percentage == 40
    assert tracker.accept(DownloadProgress("IN-PROGRESS", None)).percentage == 40
    assert tracker.accept(DownloadProgress("COMPLETED", 99)).percentage == 100
    assert tracker.accept(DownloadProgress("IN-PROGRESS", 5)) is None
    assert tracker.parse("{not json") is None and tracker.parse(b"\x00\xff") is None
    assert tracker.parse("[" * 100_000) is None  # nested too deep: skipped, not a crash
    assert tracker.parse('{"status": "IN-PROGRESS", "x": "' + "a" * 70_000 + '"}') is None


def test_tracker_follows_a_reset_down_and_keeps_unknown_open() -> None:
    tracker = ProgressTracker()
    tracker.accept(DownloadProgress("IN-PROGRESS", 60))
    assert tracker.accept(DownloadProgress("RESET", None)).percentage == 0
    assert tracker.accept(DownloadProgress("IN-PROGRESS", 10)).percentage == 10
    unknown = tracker.accept(DownloadProgress("UNKNOWN", None))
    assert unknown.percentage == 10 and not unknown.terminal and tracker.final is None


def test_garbage_binary_and_out_of_range_frames(fault: FaultServer) -> None:
    fault.frames = [
        frame("INITIALIZED", 0), "garbage{", b"\x00\x01binary", "[1,2]", frame("IN-PROGRESS", -7),
        frame("IN-PROGRESS", 30), frame("IN-PROGRESS", 250), frame("IN-PROGRESS", 20),
        frame("MYSTERY-STATUS", 40), frame("COMPLETED", 100),
    ]  # fmt: skip
    seen, elapsed, _ = collect(PiecesClient(fault.url), "m")
    percents = [p.percentage for p in seen]
    assert percents == sorted(percents) and max(percents) == 100  # type: ignore[type-var]
    assert all(0 <= p <= 100 for p in percents if p is not None)
    assert seen[-1].status == "COMPLETED" and "MYSTERY-STATUS" in [p.status for p in seen]
    assert elapsed < 5


def test_stale_frame_after_completed_is_ignored(fault: FaultServer) -> None:
    fault.frames = [frame("IN-PROGRESS", 50), frame("COMPLETED", 100), frame("IN-PROGRESS", 10)]
    fault.frame_interval = 0.2
    seen, _, _ = collect(PiecesClient(fault.url), "m")
    time.sleep(0.3)  # a sleep on purpose: past the stale frame's send time, nothing more comes
    assert [p.status for p in seen] == ["IN-PROGRESS", "COMPLETED"]


def test_refused_upgrade_falls_back_to_polling(fault: FaultServer) -> None:
    fault.ws = "refuse"
    threading.Timer(2.0, lambda: fault.model.update(downloaded=True, downloading=False)).start()
    seen, elapsed, stream = collect(PiecesClient(fault.url), "m", timing=QUICK)
    assert stream.mode == "polling" and seen[-1].status == "COMPLETED"
    assert 1.5 < elapsed < 5
    polls = [p for m, p, _ in fault.seen if m == "GET" and p == "/model/m"]
    assert len(polls) >= 3


def test_silent_socket_is_kept_and_reconciled_alongside(fault: FaultServer) -> None:
    """Silence is not a failure: the socket stays open (one connection), the model is asked
    alongside it, and the end shows through ``GET /model`` when no frame says it."""
    fault.ws = "silent"
    threading.Timer(2.5, lambda: fault.model.update(downloaded=True, downloading=False)).start()
    seen, elapsed, stream = collect(PiecesClient(fault.url), "m", timing=QUICK)
    assert stream.mode == "websocket" and seen[-1].status == "COMPLETED" and elapsed < 6
    sockets = [p for m, p, _ in fault.seen if p.endswith("/download/progress")]
    assert len(sockets) == 1, sockets


def test_download_that_vanishes_is_failed(fault: FaultServer) -> None:
    """The server stays up and stops the download without a word: said, with what is kept, and
    not asked again (only a server that went away gets asked again)."""
    fault.ws = "silent"
    gone = {"downloaded": False, "downloading": False, "partialBytes": 250}  # of 1000 bytes
    threading.Timer(0.5, lambda: fault.model.update(gone)).start()
    asked: list[Model] = []
    seen, elapsed, _stream = collect(
        PiecesClient(fault.url), "m", timing=QUICK, resume=asked.append
    )
    assert seen[-1].status == "FAILED" and elapsed < 6 and asked == []
    assert seen[-1].error == (
        "Pieces OS stopped the download without saying why; "
        "25 % is kept, downloading it again resumes from there."
    )


def test_gone_model_on_the_socket_is_failed(fault: FaultServer) -> None:
    fault.ws = "gone"
    seen, _elapsed, _stream = collect(PiecesClient(fault.url), "m")
    assert seen[-1].status == "FAILED" and "not found" in (seen[-1].error or "")


def test_server_answers_410_500_401_593_then_recovers(fault: FaultServer) -> None:
    fault.ws = "refuse"
    for status in (500, 401, 593):
        fault.status_for["/model/m"] = (status, "nope")
    threading.Timer(1.0, lambda: fault.status_for.clear()).start()
    threading.Timer(1.5, lambda: fault.model.update(downloaded=True, downloading=False)).start()
    seen, _, _ = collect(PiecesClient(fault.url), "m", timing=QUICK)
    assert seen[-1].status == "COMPLETED"


def test_slow_server_answers(fault: FaultServer) -> None:
    fault.frames = [frame("IN-PROGRESS", 10), frame("COMPLETED", 100)]
    fault.delay = 1  # each answer slower than the connect timeout, within the read timeout
    client = PiecesClient(fault.url, connect_timeout=0.5, read_timeout=4)
    seen, elapsed, _ = collect(client, "m", timeout=20)
    assert seen[-1].status == "COMPLETED" and elapsed < 5


def test_chaos_proxy_resets_mid_download(server: ServerProcess) -> None:
    proxy = ChaosProxy(server.port, reset_every=0.7, latency=0.005)
    try:
        client = PiecesClient(proxy.url)
        seen: list[float] = []
        job = DownloadJob(client, "medium", on_update=lambda j: seen.append(j.percentage or 0))
        assert job.wait(timeout=30) == "COMPLETED"
        assert proxy.resets >= 2
        assert seen == sorted(seen), "never backwards across reconnects"
        model = requests.get(f"{server.url}/model/medium", timeout=5).json()
        assert model["downloaded"] is True
        job.stop()
    finally:
        proxy.close()


def test_stop_closes_socket_and_thread_within_a_second(fault: FaultServer) -> None:
    fault.ws = "silent"
    stream = ProgressStream(PiecesClient(fault.url), "m", lambda p: None).start()
    wait_for(
        lambda: [p for _, p, _ in fault.seen if p.endswith("/download/progress")],
        message="the progress socket opened",
    )
    began = time.monotonic()
    stream.stop()
    assert time.monotonic() - began < 1.0 and not stream.alive


def test_a_download_that_starts_late_is_not_an_end(fault: FaultServer) -> None:
    """Pieces OS answers the request before it starts: the model reads idle for seconds, the
    socket says INITIALIZED. That is neither an end nor a failure; the download then runs."""
    fault.model.update(downloading=False)
    fault.frames = [frame("INITIALIZED")]
    fault.close_after_frames = False

    def starts() -> None:
        fault.model.update(downloading=True)
        threading.Timer(1.0, lambda: fault.model.update(downloaded=True, downloading=False)).start()

    threading.Timer(2.5, starts).start()  # five times the idle grace
    seen, elapsed, stream = collect(PiecesClient(fault.url), "m", timing=QUICK)
    assert seen[0].status == "INITIALIZED" and seen[-1].status == "COMPLETED"
    assert stream.alive_seen and elapsed > 2.5


def test_sparse_frames_each_arrive_on_the_same_socket(fault: FaultServer) -> None:
    """Frames seconds apart (Pieces OS sends one when the percentage changes) all reach the
    callback within a second of being sent, on one socket, with no polling in between."""
    fault.frames = [frame("IN-PROGRESS", 10), frame("IN-PROGRESS", 35), frame("COMPLETED", 100)]
    fault.frame_interval = 2.0
    arrivals: list[tuple[float, float | None]] = []
    began = time.monotonic()

    def on_progress(p: DownloadProgress) -> None:
        arrivals.append((time.monotonic() - began, p.percentage))

    stream = ProgressStream(PiecesClient(fault.url), "m", on_progress, timing=QUICK).start()
    wait_for(lambda: stream.finished, 10, message="the stream finished")
    stream.stop()
    assert [p for _, p in arrivals] == [10, 35, 100]
    for (at, _), sent in zip(arrivals, (0.0, 2.0, 4.0), strict=True):
        assert sent - 0.1 <= at < sent + 1.0, arrivals
    assert stream.mode == "websocket"
    assert len([p for _, p, _ in fault.seen if p.endswith("/download/progress")]) == 1


def test_reset_moves_the_bar_back_and_unknown_keeps_it_going(fault: FaultServer) -> None:
    fault.frames = [
        frame("IN-PROGRESS", 40), frame("IN-PROGRESS", 70), frame("RESET", 0),
        frame("IN-PROGRESS", 15), frame("UNKNOWN"), frame("IN-PROGRESS", 45),
        frame("COMPLETED", 100),
    ]  # fmt: skip
    fault.frame_interval = 0.3  # slower than the relay pause: every frame is relayed
    seen, _, _ = collect(PiecesClient(fault.url), "m", timing=QUICK)
    assert [(p.status, p.percentage) for p in seen] == [
        ("IN-PROGRESS", 40), ("IN-PROGRESS", 70), ("RESET", 0), ("IN-PROGRESS", 15),
        ("UNKNOWN", 15), ("IN-PROGRESS", 45), ("COMPLETED", 100),
    ]  # fmt: skip


def test_a_socket_that_answers_no_ping_is_reopened(fault: FaultServer) -> None:
    """A half-open socket (no pong) is dropped and the stream goes back to a new socket."""
    fault.ws = "silent"
    timing = StreamTiming(reconcile_every=5, ping_every=0.3, pong_within=0.5, backoff=(0.1, 0.2))
    stream = ProgressStream(PiecesClient(fault.url), "m", lambda p: None, timing=timing)
    fault.pong = False
    stream.start()
    try:
        wait_for(
            lambda: len([p for _, p, _ in fault.seen if p.endswith("/download/progress")]) >= 2,
            8,
            message="a second socket opened",
        )
    finally:
        stream.stop()


def _header(opcode: int, length: int, fin: bool = True) -> bytes:
    """A server's WebSocket frame header (unmasked) announcing ``length`` payload bytes."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return bytes([first, length])
    if length < 1 << 16:
        return bytes([first, 126]) + struct.pack("!H", length)
    return bytes([first, 127]) + struct.pack("!Q", length)


def test_a_huge_frame_is_refused_from_its_header(fault: FaultServer) -> None:
    """A frame announcing 600 MB ends the job FAILED, with the reason, before its payload is
    read: the server sends 4 KB of it and holds the socket, so a reader that waited for the
    whole frame (websocket-client's own) would never end."""
    fault.close_after_frames = False
    fault.raw_frames = _header(0x1, 600_000_000) + b"x" * 4096
    job = DownloadJob(PiecesClient(fault.url), "m", attach_only=True, timing=QUICK)
    assert job.wait(5) == "FAILED"
    assert job.error == (
        "Pieces OS sent a progress message of 600 MB, over the 65.5 KB a progress frame may "
        "have: stopped following this download (it may go on in Pieces OS)"
    )
    job.stop()


def test_a_huge_message_in_small_fragments_is_refused_too(fault: FaultServer) -> None:
    """Five 16 KiB fragments of one text message: the whole is capped, not only each frame."""
    piece = b"x" * (16 << 10)
    fault.close_after_frames = False
    fault.raw_frames = (
        _header(0x1, len(piece), fin=False) + piece
        + (_header(0x0, len(piece), fin=False) + piece) * 3
        + _header(0x0, len(piece)) + piece
    )  # fmt: skip
    job = DownloadJob(PiecesClient(fault.url), "m", attach_only=True, timing=QUICK)
    assert job.wait(5) == "FAILED" and "progress message of 81.9 KB" in (job.error or "")
    job.stop()


def test_frames_of_any_shape_are_skipped_and_the_download_goes_on(fault: FaultServer) -> None:
    fault.frames = [
        "[" * 60_000, '{"status": "IN-PROGRESS", "percentage": ' + "[" * 200 + "]" * 200 + "}",
        '{"status": "IN-PROGRESS\\ud800", "percentage": 1e999}', frame("IN-PROGRESS", 40),
        frame("COMPLETED", 100),
    ]  # fmt: skip
    fault.frame_interval = 0.3  # each is relayed (none is superseded by a newer one)
    seen, _, _ = collect(PiecesClient(fault.url), "m", timing=QUICK)
    assert [(p.status, p.percentage) for p in seen] == [
        ("IN-PROGRESS\ufffd", None), ("IN-PROGRESS", 40), ("COMPLETED", 100),
    ]  # fmt: skip


def test_frames_that_come_together_are_relayed_newest_first(fault: FaultServer) -> None:
    """Frames every 20 ms: the stream rests ``relay_every`` between relays and relays only the
    newest of those that came meanwhile (each is a whole state), so a busy socket costs a few
    wake-ups a second; the end is always relayed, at once."""
    fault.frames = [frame("IN-PROGRESS", i / 2) for i in range(100)] + [frame("COMPLETED", 100)]
    fault.frame_interval = 0.02
    timing = StreamTiming(relay_every=0.2)
    seen, elapsed, _ = collect(PiecesClient(fault.url), "m", timing=timing)
    assert seen[-1].status == "COMPLETED" and elapsed < 4
    assert 5 <= len(seen) <= 20, len(seen)  # ~2 s of frames at 5 relays a second, not 101
    percents = [p.percentage for p in seen]
    assert percents == sorted(percents)  # type: ignore[type-var]
