"""Downloads that fail honestly and recover where they can (issue 7, point 4): the reason in the
terminal frame and in GET /model/{id}, percentages of bytes on disk, redirects, stall and
transient-error retries with Range and backoff, and the hub's 416. Sources are ``FaultHub``s;
the server's stall timeout and backoff are shortened by its options."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websocket
from faultserver import FaultHub
from pieces_os_client.models.model import Model as SdkModel
from pieces_os_client.models.model_download_progress import ModelDownloadProgress
from serverproc import MiB, ServerProcess, write_catalog
from test_server_schema import validate
from wsframes import progress_url, read_frames

STALL = 0.3
OPTIONS = ["--stall-timeout", str(STALL), "--retry-backoff", "0.02"]
SIZE = 2 * MiB
# model id -> (path on its hub, the hub's plan, the hub's default action)
SCENARIOS: dict[str, tuple[str, list[tuple[Any, ...]], tuple[Any, ...]]] = {
    "redirects-10": ("/chain/10", [], ("ok",)),
    "redirects-11": ("/chain/11", [], ("ok",)),
    "redirect-loop": ("/loop/a", [], ("ok",)),
    "redirect-ftp": ("/ftp", [], ("ok",)),
    "not-found": ("/blob", [("status", 404)], ("ok",)),
    "stall-once": ("/blob", [("stall", 512 * 1024)], ("ok",)),
    "stall-forever": ("/blob", [("stall", MiB)], ("stall", 0)),
    "transient": ("/blob", [("reset", 256 * 1024), ("status", 503), ("status", 502)], ("ok",)),
    "always-503": ("/blob", [], ("status", 503)),
    "ignores-range": ("/blob", [("stall", 256 * 1024), ("ignore_range",)], ("ok",)),
    "bad-sum": ("/blob", [], ("ok",)),
}


class Env:
    def __init__(self, server: ServerProcess, hubs: dict[str, FaultHub]) -> None:
        self.server = server
        self.hubs = hubs

    def download(self, model_id: str) -> list[dict[str, Any]]:
        """Start a download and return its frames up to the terminal one."""
        ws = websocket.create_connection(progress_url(self.server.url, model_id), timeout=5)
        began = time.monotonic()
        requests.post(f"{self.server.url}/model/{model_id}/download", timeout=5)
        frames, closed = read_frames(ws, timeout=20)
        assert closed, model_id
        self.elapsed = time.monotonic() - began
        for _, frame in frames:
            validate(frame, "ModelDownloadProgress")
            ModelDownloadProgress.from_dict(frame)  # the official SDK ignores "error"
        return [f for _, f in frames]

    def model(self, model_id: str) -> dict[str, Any]:
        model = requests.get(f"{self.server.url}/model/{model_id}", timeout=5).json()
        validate(model, "Model")
        assert SdkModel.from_dict(model).id == model_id
        return model


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("failures")
    hubs: dict[str, FaultHub] = {}
    catalog = []
    for model_id, (path, plan, default) in SCENARIOS.items():
        hub = hubs[model_id] = FaultHub(SIZE, seed=model_id)
        hub.plan, hub.default = list(plan), default
        source = hub.source(path)
        if model_id == "bad-sum":
            source["sha256"] = "0" * 64
        catalog.append({"id": model_id, "name": model_id, "source": source})
    path = write_catalog(tmp / "catalog.json", catalog)
    try:
        with ServerProcess(tmp / "data", path, extra_args=OPTIONS) as server:
            yield Env(server, hubs)
    finally:
        for hub in hubs.values():
            hub.close()


def weights_sha256(env: Env, model_id: str) -> str:
    stem = hashlib.sha256(model_id.encode()).hexdigest()
    return hashlib.sha256((env.server.data_dir / "models" / f"{stem}.bin").read_bytes()).hexdigest()


def test_redirects_http_only_at_most_10(env: Env) -> None:
    assert env.download("redirects-10")[-1]["status"] == "COMPLETED"
    assert weights_sha256(env, "redirects-10") == env.hubs["redirects-10"].sha256
    cases = {
        "redirects-11": "too many redirects (more than 10) from http://127.0.0.1:",
        "redirect-loop": "redirect loop at http://127.0.0.1:",
        "redirect-ftp": "the source redirected to a non-http(s) URL: ftp://127.0.0.1/blob",
    }
    for model_id, reason in cases.items():
        last = env.download(model_id)[-1]
        assert last["status"] == "FAILED" and last["error"].startswith(reason), last
        assert env.elapsed < 2, "not retried"
        assert env.model(model_id)["error"] == last["error"]


def test_a_source_error_is_named_and_kept_until_the_next_download(env: Env) -> None:
    last = env.download("not-found")[-1]
    assert last == {
        "status": "FAILED",
        "percentage": 0,
        "error": "the source answered 404 Not Found: check the URL",
    }
    assert len(env.hubs["not-found"].seen) == 1, "a 404 is not retried"
    assert env.model("not-found")["error"] == last["error"]
    restarted = requests.post(f"{env.server.url}/model/not-found/download", timeout=5).json()
    assert "error" not in restarted
    assert env.download("not-found")[-1]["status"] == "COMPLETED"  # joins the running one
    assert "error" not in env.model("not-found")


def test_checksum_failure_reason_and_percentage_on_disk(env: Env) -> None:
    last = env.download("bad-sum")[-1]
    assert last["status"] == "FAILED" and last["error"].startswith("checksum mismatch")
    assert last["percentage"] == 0  # the file was deleted, so nothing is on disk
    assert "partialBytes" not in env.model("bad-sum")


def test_a_stalled_source_is_resumed_with_range(env: Env) -> None:
    frames = env.download("stall-once")
    assert frames[-1]["status"] == "COMPLETED"
    hub = env.hubs["stall-once"]
    assert [r for _, r in hub.seen] == [None, f"bytes={512 * 1024}-"]
    assert weights_sha256(env, "stall-once") == hub.sha256
    assert "retry 1 in" in env.server.log()


def test_a_source_that_stays_silent_fails_after_5_retries(env: Env) -> None:
    frames = env.download("stall-forever")
    last = frames[-1]
    assert last["status"] == "FAILED"
    assert last["error"] == f"source stalled: no data for {STALL:g} s (gave up after 5 retries)"
    hub = env.hubs["stall-forever"]
    assert len(hub.seen) == 6  # the first try, then 5 retries from the same offset
    assert all(r == f"bytes={MiB}-" for _, r in hub.seen[1:])
    # The frame counts what is on disk: the 1 MiB kept for a later resume.
    assert last["percentage"] == 50.0
    model = env.model("stall-forever")
    assert model["partialBytes"] == MiB and model["error"] == last["error"]
    assert env.elapsed < 6 * STALL + 2


def test_resets_and_5xx_are_retried(env: Env) -> None:
    assert env.download("transient")[-1]["status"] == "COMPLETED"
    hub = env.hubs["transient"]
    assert len(hub.seen) == 4 and hub.seen[-1][1] == f"bytes={256 * 1024}-"
    assert weights_sha256(env, "transient") == hub.sha256
    last = env.download("always-503")[-1]
    assert last["error"] == (
        "the source answered 503 Service Unavailable: the source is down or busy: retry later"
        " (gave up after 5 retries)"
    )
    assert len(env.hubs["always-503"].seen) == 6


def test_a_source_that_ignores_range_starts_over(env: Env) -> None:
    assert env.download("ignores-range")[-1]["status"] == "COMPLETED"
    assert weights_sha256(env, "ignores-range") == env.hubs["ignores-range"].sha256


def test_hub_refuses_an_invalid_range_at_once(server: ServerProcess) -> None:
    blob = f"{server.url}/hub/medium-{24 * MiB}.bin"
    for header in ["bytes=100-5", f"bytes={24 * MiB}-", "bytes=999999999999-"]:
        began = time.monotonic()
        answer = requests.get(blob, headers={"Range": header}, timeout=5)
        assert answer.status_code == 416, header
        assert answer.headers["Content-Range"] == f"bytes */{24 * MiB}"
        assert time.monotonic() - began < 0.5
    ranged = requests.get(blob, headers={"Range": "bytes=5-9"}, timeout=5)
    assert ranged.status_code == 206 and len(ranged.content) == 5
