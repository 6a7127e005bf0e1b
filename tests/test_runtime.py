"""The Ollama runtime (Pieces OS 11+) in words: what each ``OllamaStatus`` means to a user, an
older Pieces OS without the API, and the banner's words for the server it is connected to; an
install or update followed through the status socket (polling where it cannot be had, garbage
and oversized frames refused), against the real reference server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from faultserver import FaultServer, RouteProxy, SlowServer
from serverproc import MiB, ServerProcess, local_model, server_starter
from waiting import wait_for

from pieces_widget import ModelManager, PiecesClient
from pieces_widget.core.capped_ws import MAX_FRAME_BYTES
from pieces_widget.core.runtime import RuntimeInstall
from pieces_widget.core.runtime_status import RuntimeInfo, runtime_info
from pieces_widget.core.runtime_stream import RuntimeTiming
from pieces_widget.widget.watch import connected_message

INSTALLED = {"version": "0.6.2", "status": "COMPLETED"}


@pytest.mark.parametrize(
    ("status", "state", "words"),
    [
        (None, "none", ""),
        ({}, "missing", "Local models run on Ollama, which is not installed."),
        ({"installation": INSTALLED}, "installed", ""),
        (
            {"installing": {"version": "0.6.2", "status": "IN-PROGRESS", "percentage": 41.6}},
            "installing",
            "Installing Ollama (41.6 %)…",
        ),
        (
            {"installation": INSTALLED, "updating": {"version": "0.7.0", "percentage": None}},
            "installing",
            "Updating Ollama…",
        ),
        (
            {"installation": INSTALLED, "updateRequired": {"version": "0.7.0"}},
            "update-required",
            "Ollama 0.6.2 needs an update to 0.7.0: Pieces OS can update it.",
        ),
        (
            {
                "installation": INSTALLED,
                "updateRequired": {"version": "0.7.0", "userManaged": True},
            },
            "update-required",
            "Ollama 0.6.2 needs an update to 0.7.0: update it yourself (Pieces OS cannot).",
        ),
        (
            {"installing": {"version": "0.6.2", "status": "FAILED", "error": "disk full"}},
            "failed",
            "The Ollama install failed: disk full.",
        ),
        ({"installation": "garbage", "installing": 7}, "missing", "not installed"),
    ],
)
def test_runtime_states_in_words(status: dict | None, state: str, words: str) -> None:
    info = runtime_info(status)
    assert info["state"] == state
    assert words in info["message"] if words else info["message"] == ""


@pytest.mark.parametrize(
    ("status", "offer"),
    [
        (None, ""),
        ({}, "install"),
        ({"installation": INSTALLED}, ""),
        ({"installing": {"version": "0.6.2", "status": "IN-PROGRESS"}}, ""),
        ({"installation": INSTALLED, "updateRequired": {"version": "0.7.0"}}, "update"),
        (
            {"installation": INSTALLED, "updateRequired": {"version": "0.7", "userManaged": True}},
            "",
        ),
        ({"installing": {"version": "0.6.2", "status": "FAILED"}}, "install"),
        ({"installation": INSTALLED, "updating": {"version": "0.7", "status": "FAILED"}}, "update"),
    ],
)
def test_the_runtime_offers_what_pieces_os_can_do(status: dict | None, offer: str) -> None:
    """The widget's button and the CLI's next step follow ``offer``, never the message's words."""
    info = runtime_info(status)
    assert info["offer"] == offer
    if status and status.get("updating"):
        assert info["message"].startswith("The Ollama update failed")


def test_an_older_pieces_os_without_the_ollama_api_reads_none(fault: FaultServer) -> None:
    fault.status_for["/ollama/status"] = (404, "404: Not Found")
    assert PiecesClient(fault.url).ollama_status() is None


def test_the_banner_names_the_server_and_an_old_version() -> None:
    where = "http://127.0.0.1:39300"
    assert (
        connected_message("11.2.0", "pieces-os", where)
        == f"Connected to Pieces OS 11.2.0 at {where}"
    )
    assert connected_message("0.1.0", "reference", where) == (
        f"Connected to the pieces-widget reference server at {where}"
    )
    old = connected_message("9.0.4", "pieces-os", where)
    assert old.startswith(
        f"Connected to Pieces OS 9.0.4 at {where}; this widget needs Pieces OS 10"
    )
    assert "update Pieces OS" in old
    assert connected_message("", "pieces-os", where) == f"Connected to Pieces OS at {where}"


# -- an install or update followed to its end, over real sockets -------------------------------
FAST = RuntimeTiming(poll_every=0.1, retry_socket_every=0.5, reconcile_every=5.0)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    yield from server_starter(tmp_path, [local_model("m", MiB)], hub_rate=8 * MiB)


@pytest.fixture
def proxy() -> Iterator[Callable[[str], RouteProxy]]:
    made: list[RouteProxy] = []

    def make(upstream: str) -> RouteProxy:
        made.append(RouteProxy(upstream))
        return made[-1]

    yield make
    for p in made:
        p.close()


def follow(client: PiecesClient, **kwargs: Any) -> tuple[RuntimeInstall, list[RuntimeInfo]]:
    seen: list[RuntimeInfo] = []
    return RuntimeInstall(client, on_update=seen.append, timing=FAST, **kwargs), seen


def test_the_install_is_followed_through_the_status_stream(
    start: Callable[..., ServerProcess],
) -> None:
    """The status socket tells every step: no GET /ollama/status while it serves."""
    server = start("--without-ollama")
    install, seen = follow(PiecesClient(server.url))
    assert install.wait(20) == "COMPLETED", install.error
    assert install.source == "stream" and install.socket.frames >= 3
    running = [i["percentage"] for i in seen if i["state"] == "installing"]
    assert any(p is not None and 0 < p < 100 for p in running), seen
    assert running == sorted(running, key=lambda p: p or 0)
    assert seen[-1]["state"] == "installed" and seen[-1]["version"] == "0.6.2"
    wait_for(lambda: '"GET /ollama/status/stream ' in server.log(), message="the socket logged")
    assert '"GET /ollama/status HTTP' not in server.log(), "no polling while the socket serves"


def test_a_failed_install_says_why_through_the_stream(
    start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """The status only says the install is gone: the client asks the deployment why."""
    folder = tmp_path / "data" / "ollama"
    folder.mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere", folder / "runtime.part")  # the disk refuses the file
    server = start("--without-ollama")
    install, seen = follow(PiecesClient(server.url))
    assert install.wait(20) == "FAILED"
    assert (
        install.error
        and install.error.startswith("cannot install Ollama")
        and "symlink" in install.error
    )
    assert install.source == "stream" and seen[-1]["state"] == "missing"


def test_polling_when_the_status_stream_answers_404(
    start: Callable[..., ServerProcess], proxy: Callable[[str], RouteProxy]
) -> None:
    """A Pieces OS without the socket: the install is followed by polling, and the socket is
    not asked for again."""
    server = start("--without-ollama")
    older = proxy(server.url)
    older.refuse["/ollama/status/stream"] = (404, "404: Not Found")
    install, seen = follow(PiecesClient(older.url))
    assert install.wait(20) == "COMPLETED", install.error
    assert install.source == "polling" and install.socket.frames == 0
    assert "404" in install.socket.problem
    assert older.count("GET", "/ollama/status/stream") == 1
    assert older.count("GET", "/ollama/status") >= 2
    assert older.count("GET", f"/ollama/install/{install.id}") >= 2
    assert seen[-1]["state"] == "installed"


def test_a_dropped_status_stream_is_polled_then_taken_again(
    start: Callable[..., ServerProcess], proxy: Callable[[str], RouteProxy]
) -> None:
    server = start("--without-ollama", hub_rate=4 * MiB)
    flaky = proxy(server.url)
    flaky.drop_after = 2
    install, seen = follow(PiecesClient(flaky.url))
    assert install.wait(20) == "COMPLETED", install.error
    assert flaky.count("GET", "/ollama/status/stream") == 2, "the socket was taken again"
    assert flaky.count("GET", "/ollama/status") >= 1, "polled while it was away"
    assert install.source == "stream" and seen[-1]["state"] == "installed"


def test_garbage_frames_are_ignored_and_an_oversized_one_ends_the_socket_in_one_line(
    start: Callable[..., ServerProcess],
    proxy: Callable[[str], RouteProxy],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = start("--without-ollama")
    hostile = proxy(server.url)
    hostile.inject = ["not json", "[1, 2]", b"\x00binary", "{" * 5000, '{"installing": 7}']
    install, _ = follow(PiecesClient(hostile.url))
    assert install.wait(20) == "COMPLETED", install.error
    assert install.socket.ignored == 3 and install.source == "stream"
    caplog.clear()
    hostile.inject = ['{"a": "' + "x" * (MAX_FRAME_BYTES + 10) + '"}']
    requests.post(f"{server.url}/ollama/uninstall", timeout=5).raise_for_status()
    again, _ = follow(PiecesClient(hostile.url))
    assert again.wait(20) == "COMPLETED", again.error
    assert again.source == "polling" and "over the 65.5 KB" in again.socket.problem
    assert hostile.count("GET", "/ollama/status/stream") == 2, "one each: not asked for again"
    said = [r for r in caplog.records if r.name.startswith("pieces_widget")]
    assert any("over the 65.5 KB" in r.getMessage() for r in said)
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in said)


def test_install_returns_at_once_and_close_leaves_no_thread_or_socket() -> None:
    """A Pieces OS that takes the POST and never answers: the widget's call returns at once,
    and close() cuts the request and ends the follower thread."""
    slow = SlowServer()
    try:
        mgr = ModelManager(PiecesClient(slow.url, read_timeout=5), first_answer_timeout=0.1)
        sent = time.monotonic()
        install = mgr.install_runtime()
        assert time.monotonic() - sent < 0.5, "install_runtime() waited on Pieces OS"
        wait_for(lambda: slow.requests >= 2, message="the POST sent")  # the list, then the POST
        mgr.close(timeout=2)
        assert not install._thread.is_alive()
        wait_for(lambda: slow.open == 0, message="every socket closed")
        assert install.status == "INITIALIZED" and not install.done
    finally:
        slow.close()


def test_update_cancel_and_uninstall_through_the_client(
    start: Callable[..., ServerProcess],
) -> None:
    server = start("--ollama-update-required", "0.7.0", hub_rate=4 * MiB)
    client = PiecesClient(server.url)
    assert runtime_info(client.ollama_status())["state"] == "update-required"
    update, _ = follow(client, kind="update")
    wait_for(lambda: (update.percentage or 0) > 0, message="the update moving")
    sent = time.monotonic()
    update.cancel()
    assert time.monotonic() - sent < 0.1, "cancel() returns at once"
    assert update.wait(10) == "CANCELED" and update.error is None
    assert runtime_info(client.ollama_status())["state"] == "update-required"
    update, seen = follow(client, kind="update")
    assert update.wait(20) == "COMPLETED", update.error
    assert update.version == "0.7.0" and update.source == "stream"
    assert any(i["message"].startswith("Updating Ollama") for i in seen)
    after = runtime_info(client.ollama_status())
    assert after["state"] == "installed" and after["version"] == "0.7.0"
    removed = client.uninstall_ollama()
    assert removed["version"] == "0.7.0"
    assert runtime_info(client.ollama_status())["state"] == "missing"
    refused, _ = follow(client, kind="update")
    assert refused.wait(5) == "FAILED" and "not installed" in (refused.error or "")


def test_the_manager_updates_a_runtime_that_needs_it(start: Callable[..., ServerProcess]) -> None:
    server = start("--ollama-update-required", "0.7.0")
    mgr = ModelManager(PiecesClient(server.url), watch_interval=None)
    try:
        assert mgr.runtime["state"] == "update-required"
        update = mgr.install_runtime()
        assert update.kind == "update" and update.wait(20) == "COMPLETED", update.error
        wait_for(lambda: mgr.runtime["state"] == "installed", message="the runtime installed")
        assert mgr.runtime["version"] == "0.7.0"
    finally:
        mgr.close()


def test_the_cli_updates_a_runtime_that_needs_it(start: Callable[..., ServerProcess]) -> None:
    server = start("--ollama-update-required", "0.7.0")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pieces_widget", *args, "--url", server.url]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)

    status = cli("status")
    assert (
        "needs an update to 0.7.0" in status.stdout
        and "install-ollama` updates it" in status.stdout
    )
    updated = cli("install-ollama")
    assert updated.returncode == 0, updated.stderr
    assert "updating Ollama" in updated.stdout
    assert "Ollama 0.7.0 updated: local models can run" in updated.stdout
    assert "ollama        Ollama 0.7.0" in cli("status").stdout


def test_the_cli_asks_the_user_to_update_a_runtime_pieces_os_cannot(fault: FaultServer) -> None:
    """A user-managed Ollama that needs an update: install-ollama sends nothing, says who acts."""
    status = {
        "installation": INSTALLED,
        "updateRequired": {"version": "0.7.0", "userManaged": True},
    }
    fault.raw_answers["/ollama/status"] = (
        {"Content-Type": "application/json"},
        json.dumps(status).encode(),
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    command = [sys.executable, "-m", "pieces_widget", "install-ollama", "--url", fault.url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1, done.stderr
    assert "update it yourself (Pieces OS cannot)" in done.stdout + done.stderr
    posted = [path for method, path, _ in fault.seen if method == "POST"]
    assert not [path for path in posted if path.startswith("/ollama/")], posted


class InstallEndsBetweenReads(FaultServer):
    """An Ollama install that ends on the client's second read of it: from then on the
    deployment says COMPLETED and the status shows the installation, as a real server's state
    changes; no status socket (404), so the client polls both."""

    def __init__(self) -> None:
        self.reads, self.ended = 0, False
        super().__init__()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        deployment = {"id": "i1", "version": "0.6.2"}
        running = {**deployment, "status": "IN-PROGRESS", "percentage": 50.0}
        ended = {**deployment, "status": "COMPLETED", "percentage": 100.0}
        if request.path == "/ollama/status/stream":
            return web.Response(status=404, text="404: Not Found")
        if request.path == "/ollama/install":
            return web.json_response({**deployment, "status": "INITIALIZED"})
        if request.path == "/ollama/install/i1":
            self.reads += 1
            self.ended = self.ended or self.reads >= 2
            return web.json_response(ended if self.ended else running)
        if request.path == "/ollama/status":
            return web.json_response(
                {"installation": ended} if self.ended else {"installing": running}
            )
        return await super()._handle(request)


def test_the_last_word_of_a_finished_install_is_installed() -> None:
    """Polling reads the deployment, then the status: the status read after the deployment
    ended shows its end. (Read the other way round, a widget said "Installing Ollama…" after
    the install had completed.)"""
    server = InstallEndsBetweenReads()
    try:
        install, seen = follow(PiecesClient(server.url))
        assert install.wait(20) == "COMPLETED", install.error
        assert install.source == "polling"
        assert seen[-1]["state"] == "installed", seen
    finally:
        server.close()
