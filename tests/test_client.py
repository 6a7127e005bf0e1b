"""PiecesClient against the real reference server, and its errors against faults."""

from __future__ import annotations

import gc
import gzip
import json
import threading
import time

import psutil
import pytest
import requests
from faultserver import FaultServer, SlowServer
from serverproc import MiB, ServerProcess
from test_server_api import wait_downloaded
from waiting import wait_for

from pieces_widget import (
    ModelNotFoundError,
    PiecesClient,
    PiecesConnectionError,
    PiecesServerError,
    PiecesTimeoutError,
)
from pieces_widget.core.errors import PiecesError


def test_every_endpoint(server: ServerProcess) -> None:
    client = PiecesClient(server.url)
    assert client.health().startswith("ok:") and client.version() == "11.0.0"
    assert [m.id for m in client.models()] == ["small", "medium", "badsum", "cloudy"]
    assert client.snapshot("small").bytes == 4 * MiB
    assert client.download("small").downloading is True
    wait_downloaded(server.url, "small")
    assert client.cancel_download("small").downloaded is True
    assert client.load("small").loaded is True
    assert client.unload("small").loaded is False
    assert client.application_id  # the reference server offers /connect


def test_update_sends_the_whole_model(server: ServerProcess) -> None:
    client = PiecesClient(server.url)
    updated = client.update({"id": "small", "description": "new text"})
    assert updated.description == "new text" and updated.name == "Small Model"
    whole = client.snapshot("small")
    assert client.update(whole).raw["description"] == "new text"
    with pytest.raises(PiecesServerError, match="only custom models"):
        client.update({"id": "medium", "name": "x"})
    with pytest.raises(ValueError, match="string 'id'"):
        client.update({"name": "no id"})


def test_unknown_and_path_like_ids_are_model_not_found(server: ServerProcess) -> None:
    client = PiecesClient(server.url)
    for bad in ["nope", "../small", "small/load", "a b?c#d"]:
        with pytest.raises(ModelNotFoundError, match="was not found"):
            client.snapshot(bad)
    with pytest.raises(ModelNotFoundError):
        client.download("../../etc/passwd")


def test_server_down_names_the_url() -> None:
    client = PiecesClient("http://127.0.0.1:9")
    with pytest.raises(
        PiecesConnectionError, match=r"not reachable at http://127\.0\.0\.1:9/models"
    ):
        client.models()


@pytest.mark.parametrize(
    ("status", "text", "message"),
    [
        (500, "disk on fire", "^Pieces OS failed: disk on fire$"),
        (401, "", "not signed in"),
        (593, "", "needs an update"),
    ],
)
def test_error_statuses(fault: FaultServer, status: int, text: str, message: str) -> None:
    fault.status_for["/models"] = (status, text)
    with pytest.raises(PiecesServerError, match=message) as info:
        PiecesClient(fault.url).models()
    assert info.value.status == status  # kept for logs and -v, not said in the message
    assert "\n" not in str(info.value) and "HTTP 500" not in str(info.value)


def test_slow_answer_times_out(fault: FaultServer) -> None:
    fault.delay = 3
    with pytest.raises(PiecesTimeoutError, match="too slow to answer"):
        PiecesClient(fault.url, read_timeout=0.5).models()


def test_connect_sends_application_headers(fault: FaultServer) -> None:
    fault.offer_connect = True
    PiecesClient(fault.url).models()
    _method, path, headers = fault.seen[-1]
    assert path == "/models"
    assert headers["application"] == "app-123" and headers["X-Application-ID"] == "app-123"


def test_no_connect_route_is_fine(fault: FaultServer) -> None:
    client = PiecesClient(fault.url)
    assert [m.id for m in client.models()] == ["m"]
    assert client.application_id is None


def test_malformed_models_answer(fault: FaultServer) -> None:
    fault.model = {"no": "id"}
    assert PiecesClient(fault.url).models() == []
    fault.status_for["/models"] = (200, "not json")
    with pytest.raises(PiecesError, match="no JSON"):
        PiecesClient(fault.url).models()


def test_errors_are_one_line(server: ServerProcess) -> None:
    with pytest.raises(PiecesError) as info:
        PiecesClient(server.url).load("medium")
    assert "not downloaded" in str(info.value) and "\n" not in str(info.value)
    assert requests.get(server.url + "/.well-known/health", timeout=5).ok


def test_a_dripping_answer_ends_at_the_total_deadline() -> None:
    """A read timeout is per read: a byte every 0.2 s would keep a call going ~20 s. The whole
    call has a deadline (the read timeout, 1 s here), and its socket is closed after."""
    slow = SlowServer(drip=0.2)
    try:
        client = PiecesClient(slow.url, read_timeout=1.0)
        began = time.monotonic()
        with pytest.raises(PiecesTimeoutError, match="too slow to answer: GET /models") as info:
            client.models()
        assert time.monotonic() - began < 2.5 and "\n" not in str(info.value)
        wait_for(lambda: slow.open == 0, 3)
    finally:
        slow.close()


def test_close_cuts_a_call_pieces_os_never_answers() -> None:
    slow = SlowServer()  # takes the request, answers nothing
    try:
        client = PiecesClient(slow.url, read_timeout=60)
        failures: list[Exception] = []

        def call() -> None:
            try:
                client.models()
            except PiecesError as exc:
                failures.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        wait_for(lambda: slow.requests >= 1, 5)
        began = time.monotonic()
        client.close()
        caller.join(2)
        assert not caller.is_alive() and time.monotonic() - began < 1.0
        assert isinstance(failures[0], PiecesConnectionError) and "closing" in str(failures[0])
        wait_for(lambda: slow.open == 0, 3)  # no socket left either
        with pytest.raises(PiecesConnectionError, match="closing"):
            client.models()  # a closed client calls no more
    finally:
        slow.close()


def _members(size: int, member: int = 1 << 20) -> bytes:
    """``size`` bytes of JSON whitespace as gzip members: ~1 KB per MiB (a gzip bomb)."""
    one = gzip.compress(b" " * member, compresslevel=9)
    return gzip.compress(b'{"iterable": [') + one * (size // member) + gzip.compress(b"]}")


def test_a_gzip_bomb_stops_at_the_cap_in_memory_too(fault: FaultServer) -> None:
    """256 MiB of whitespace in ~260 KB of gzip: the answer is counted as it inflates and
    dropped at 64 MiB; memory never holds much more, and returns after."""
    fault.raw_answers["/models"] = ({"Content-Encoding": "gzip"}, _members(256 << 20))
    process = psutil.Process()
    gc.collect()
    baseline = process.memory_info().rss
    peak = [baseline]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.002):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample)
    sampler.start()
    client = PiecesClient(fault.url)
    try:
        with pytest.raises(PiecesServerError, match=r"sent more than 67\.1 MB for GET /models"):
            client.models()
    finally:
        sampling.set()
        sampler.join()
        client.close()
    gc.collect()
    assert peak[0] - baseline < 160 * MiB, f"peak +{(peak[0] - baseline) >> 20} MiB"
    assert process.memory_info().rss - baseline < 48 * MiB


def test_a_plain_answer_over_the_cap_is_dropped(fault: FaultServer) -> None:
    fault.raw_answers["/models"] = ({}, b'{"iterable": [' + b" " * (3 << 20) + b"]}")
    with pytest.raises(PiecesServerError, match=r"sent more than 1 MB"):
        PiecesClient(fault.url, max_answer_bytes=1_000_000).models()
    assert [m.id for m in PiecesClient(fault.url, max_answer_bytes=4 << 20).models()] == []


def test_deep_json_is_a_one_line_error_never_a_recursion_error(fault: FaultServer) -> None:
    client = PiecesClient(fault.url)
    for body in ("[" * 100_000, '{"iterable": [' + "[" * 500 + "]" * 500 + "]}"):
        fault.status_for["/models"] = (200, body)
        with pytest.raises(PiecesServerError, match="nested deeper than 64 levels") as info:
            client.models()
        assert "\n" not in str(info.value)
    fault.status_for.clear()
    fault.model["description"] = "[" * 50_000  # deep-looking text in a string is just text
    assert client.snapshot("m").description == "[" * 50_000


def test_text_no_encoding_can_carry_is_replaced_and_the_rest_kept(fault: FaultServer) -> None:
    """A lone surrogate ("\\ud800") is valid JSON but no text encoding can carry it: it would
    break every later use (the widget's messages, a terminal). It becomes U+FFFD."""
    fault.model.update(name="bad\ud800name", description="ok \U0001f600", quantization="\udfff")
    (model,) = PiecesClient(fault.url).models()
    assert model.name == "bad\ufffdname" and model.quantization == "\ufffd"
    assert model.description == "ok \U0001f600"  # a real pair stays what it is
    json.dumps(model.raw, ensure_ascii=False).encode("utf-8")
