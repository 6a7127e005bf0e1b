"""Never a wrong file reported downloaded (issue 18, points 7, 8 and 11), against sources that
behave as real hosts may: they gzip when allowed, change their file between a download and
its resume (with or without honouring If-Range), announce impossible sizes, refuse a download.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hostile_source import HostileSource, blob_of
from serverproc import MiB, ServerProcess, local_model, write_catalog
from waiting import wait_for

FAST = ["--stall-timeout", "2", "--retry-backoff", "0.05", "--retries", "1"]
SIZE = 2 * MiB
HELD = 512 * 1024


@pytest.fixture
def source() -> Iterator[HostileSource]:
    hostile = HostileSource(blob_of(SIZE, "version A"))
    yield hostile
    hostile.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    catalog = write_catalog(tmp_path / "c.json", [])
    with ServerProcess(tmp_path / "data", catalog, extra_args=FAST) as proc:
        yield proc


def create(server: ServerProcess, url: str, **source: Any) -> requests.Response:
    body = {"name": f"From {url[-30:]} {time.monotonic()}", "source": {"url": url, **source}}
    return requests.post(f"{server.url}/models/create", json=body, timeout=10)


def model(server: ServerProcess, model_id: str) -> dict[str, Any]:
    return requests.get(f"{server.url}/model/{model_id}", timeout=5).json()


def finish(server: ServerProcess, model_id: str, timeout: float = 20) -> dict[str, Any]:
    """Start a download and wait for its end; the model as it is then."""
    assert requests.post(f"{server.url}/model/{model_id}/download", timeout=5).ok

    def ended() -> dict[str, Any] | None:
        now = model(server, model_id)
        return None if now["downloading"] else now

    return wait_for(ended, timeout, message=f"{model_id} no longer downloading")


def weights(server: ServerProcess, model_id: str) -> bytes:
    stem = hashlib.sha256(model_id.encode()).hexdigest()
    return (server.data_dir / "models" / f"{stem}.bin").read_bytes()


def start_and_hold(server: ServerProcess, source: HostileSource, model_id: str) -> int:
    """Start a download the source holds after ``HELD`` bytes; the bytes on disk then."""
    source.hold(HELD)
    requests.post(f"{server.url}/model/{model_id}/download", timeout=5)
    wait_for(
        lambda: model(server, model_id).get("partialBytes", 0) >= HELD, 10, message="HELD bytes"
    )
    return HELD


def change(source: HostileSource, **validators: str | None) -> None:
    """The source's file becomes version B, served in full from now on."""
    source.blob = blob_of(SIZE, "version B")
    source.etag = validators.get("etag")
    source.last_modified = validators.get("last_modified")
    source.hold(None)
    source.release()


def test_sources_are_asked_for_the_file_as_is(server: ServerProcess, source: HostileSource) -> None:
    """A source that gzips when allowed: the weights are the file, not its gzip."""
    source.gzip_when_allowed = True
    made = create(server, source.url)
    assert made.ok, made.text
    model_id = made.json()["id"]
    done = finish(server, model_id)
    assert done["downloaded"] is True and "error" not in done, done
    assert weights(server, model_id) == source.blob
    assert {h.get("Accept-Encoding") for h in source.headers_of("GET")} == {"identity"}
    assert {h.get("Accept-Encoding") for h in source.headers_of("HEAD")} == {"identity"}


def test_a_source_that_encodes_anyway_fails_in_words(
    server: ServerProcess, source: HostileSource
) -> None:
    model_id = create(server, source.url).json()["id"]
    source.gzip_always = True
    done = finish(server, model_id)
    assert done["downloaded"] is False
    assert done["error"].startswith("the source sent encoded data (Content-Encoding: gzip)")
    assert not list((server.data_dir / "models").iterdir())


def test_a_resume_after_the_file_changed_starts_over(
    server: ServerProcess, source: HostileSource
) -> None:
    """ETag: the resume sends If-Range; the source answers 200 with the new file."""
    source.etag = '"version-a"'
    model_id = create(server, source.url).json()["id"]
    held = start_and_hold(server, source, model_id)
    requests.post(f"{server.url}/model/{model_id}/download/cancel", timeout=5)
    change(source, etag='"version-b"')
    done = finish(server, model_id)
    assert done["downloaded"] is True, done
    assert weights(server, model_id) == source.blob, "two versions spliced"
    resumed = source.headers_of("GET")[-1]
    assert resumed["Range"] == f"bytes={held}-" and resumed["If-Range"] == '"version-a"'
    assert sorted(p.name for p in (server.data_dir / "models").iterdir()) == [
        hashlib.sha256(model_id.encode()).hexdigest() + ".bin"
    ]


def test_the_validator_is_kept_with_the_part_across_a_restart(
    server: ServerProcess, source: HostileSource
) -> None:
    """Last-Modified only, and the server SIGKILLed mid-download."""
    source.last_modified = "Wed, 01 May 2024 12:00:00 GMT"
    model_id = create(server, source.url).json()["id"]
    start_and_hold(server, source, model_id)
    server.kill()
    assert list((server.data_dir / "models").glob("*.resume"))
    change(source, last_modified="Thu, 02 May 2024 12:00:00 GMT")
    server.start()
    assert model(server, model_id)["partialBytes"] >= HELD
    done = finish(server, model_id)
    assert done["downloaded"] is True, done
    assert weights(server, model_id) == source.blob
    assert source.headers_of("GET")[-1]["If-Range"] == "Wed, 01 May 2024 12:00:00 GMT"


def test_a_source_that_ignores_if_range_is_caught_by_its_etag(
    server: ServerProcess, source: HostileSource
) -> None:
    """It answers 206 from the new version: the ETag differs, so the server starts over."""
    source.etag, source.honor_if_range = '"version-a"', False
    model_id = create(server, source.url).json()["id"]
    start_and_hold(server, source, model_id)
    requests.post(f"{server.url}/model/{model_id}/download/cancel", timeout=5)
    change(source, etag='"version-b"')
    done = finish(server, model_id)
    assert done["downloaded"] is True, done
    assert weights(server, model_id) == source.blob
    assert "Range" not in source.headers_of("GET")[-1]


def test_without_validator_or_digest_a_partial_is_not_trusted(
    server: ServerProcess, source: HostileSource
) -> None:
    """Nothing could tell the versions apart, and nothing checks the file at the end."""
    model_id = create(server, source.url).json()["id"]
    start_and_hold(server, source, model_id)
    requests.post(f"{server.url}/model/{model_id}/download/cancel", timeout=5)
    change(source)
    done = finish(server, model_id)
    assert done["downloaded"] is True and weights(server, model_id) == source.blob
    assert "Range" not in source.headers_of("GET")[-1]


def test_impossible_sizes_are_refused_and_leave_no_ghost(
    server: ServerProcess, source: HostileSource
) -> None:
    cases = [
        ({"head_length": 2**50 + 1}, "cannot add the model: the source announces 1125899906842625"),
        ({"head_length": 0, "probe_range": "bytes 0-0/0"}, "cannot add the model: the source says"),
    ]
    for setup, message in cases:
        source.head_length, source.probe_range = None, None
        for key, value in setup.items():
            setattr(source, key, value)
        for _ in range(5):
            answer = create(server, source.url)
            assert answer.status_code == 500 and answer.text.startswith(message), answer.text
            assert "\n" not in answer.text
    assert requests.get(f"{server.url}/models", timeout=5).json()["iterable"] == []
    state = server.data_dir / "state.json"
    assert not state.exists() or json.loads(state.read_text())["created"] == {}
    assert "Traceback" not in server.log()


def test_a_failed_attempt_leaves_no_empty_part(server: ServerProcess, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}/model.gguf"
    model_id = create(server, closed, bytes=1000).json()["id"]
    done = finish(server, model_id)
    assert done["error"].startswith("cannot reach the source"), done
    assert "partialBytes" not in done
    assert list((server.data_dir / "models").iterdir()) == []


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_downloaded_and_downloading_are_never_both_true(tmp_path: Path) -> None:
    """The weights are renamed into place a moment before the transfer ends: a model read in
    between must still say downloading, not downloaded too. Many downloads, polled throughout."""
    models = [local_model(f"m{i}", 256 * 1024) for i in range(40)]
    catalog = write_catalog(tmp_path / "many.json", models)
    both: list[str] = []
    polls = 0
    with ServerProcess(tmp_path / "data", catalog) as server:
        stop = threading.Event()

        def poll() -> None:
            nonlocal polls
            session = requests.Session()
            while not stop.is_set():
                for m in session.get(f"{server.url}/models", timeout=5).json()["iterable"]:
                    if m["downloaded"] and m["downloading"]:
                        both.append(m["id"])
                polls += 1

        pollers = [threading.Thread(target=poll) for _ in range(2)]
        for thread in pollers:
            thread.start()
        try:
            for m in models:
                requests.post(f"{server.url}/model/{m['id']}/download", timeout=5)
            wait_for(
                lambda: all(
                    m["downloaded"]
                    for m in requests.get(f"{server.url}/models", timeout=5).json()["iterable"]
                ),
                60,
                message="every model downloaded",
            )
        finally:
            stop.set()
            for thread in pollers:
                thread.join()
    assert polls > 20
    assert both == [], f"{len(both)} answers said downloaded and downloading at once"
