"""PiecesClient against the real reference server, and its errors against faults."""

from __future__ import annotations

import pytest
import requests
from faultserver import FaultServer
from serverproc import MiB, ServerProcess
from test_server_api import wait_downloaded

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
    assert client.model("small").bytes == 4 * MiB
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
    whole = client.model("small")
    assert client.update(whole).raw["description"] == "new text"
    with pytest.raises(PiecesServerError, match="only custom models"):
        client.update({"id": "medium", "name": "x"})
    with pytest.raises(ValueError, match="string 'id'"):
        client.update({"name": "no id"})


def test_unknown_and_path_like_ids_are_model_not_found(server: ServerProcess) -> None:
    client = PiecesClient(server.url)
    for bad in ["nope", "../small", "small/load", "a b?c#d"]:
        with pytest.raises(ModelNotFoundError, match="was not found"):
            client.model(bad)
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
    with pytest.raises(PiecesTimeoutError, match="did not answer"):
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
