"""The Ollama runtime (Pieces OS 11+) in words: what each ``OllamaStatus`` means to a user, an
older Pieces OS without the API, and the banner's words for the server it is connected to."""

from __future__ import annotations

import pytest
from faultserver import FaultServer

from pieces_widget import PiecesClient
from pieces_widget.core.runtime import runtime_info
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
