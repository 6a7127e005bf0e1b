"""Lenient parsing of Model and DownloadProgress: unknown values are kept, never an error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pieces_widget.core.models import DownloadProgress, Model, clamp_percentage, readable_bytes


def test_model_typed_attributes_and_raw_kept() -> None:
    raw = {
        "id": "m",
        "name": "M",
        "cloud": False,
        "downloaded": True,
        "bytes": {"value": 1234, "readable": "1.2 KB"},
        "ram": {"value": 99.0, "readable": "99 B"},
        "foundation": "SOME_FUTURE_MODEL",
        "provider": "NEW_PROVIDER",
        "futureField": {"x": 1},
    }
    model = Model.from_json(raw)
    assert model.raw is raw and model.raw["futureField"] == {"x": 1}
    assert model.bytes == 1234 and model.ram == 99
    assert model.foundation == "SOME_FUTURE_MODEL" and model.provider == "NEW_PROVIDER"
    assert model.downloaded and not model.loaded and not model.downloading and not model.custom


def test_model_missing_and_wrong_typed_fields_read_as_none() -> None:
    model = Model.from_json('{"id": "x", "bytes": {"value": "big"}, "name": 7, "loaded": "yes"}')
    assert model.name == "x" and model.bytes is None and model.ram is None
    assert model.loaded is False and model.version is None


@pytest.mark.parametrize("bad", ["[]", '{"name": "no id"}', '{"id": 5}'])
def test_model_without_string_id_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="string 'id'"):
        Model.from_json(bad)


def test_progress_unknown_status_kept_and_percentage_clamped() -> None:
    assert DownloadProgress.from_json(
        '{"status": "PAUSED", "percentage": 140}'
    ) == DownloadProgress("PAUSED", 100.0)
    assert DownloadProgress.from_json("{}").status == "UNKNOWN"
    assert DownloadProgress.from_json('{"status": "COMPLETED"}').terminal
    assert (
        DownloadProgress.from_json('{"status": "IN-PROGRESS", "percentage": null}').percentage
        is None
    )
    with pytest.raises(ValueError):
        DownloadProgress.from_json("[1]")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5, 0.0),
        (50, 50.0),
        (100.5, 100.0),
        (None, None),
        ("50", None),
        (True, None),
        (math.nan, None),
    ],
)
def test_clamp_percentage(value: object, expected: float | None) -> None:
    assert clamp_percentage(value) == expected


BYTE_CASES = json.loads((Path(__file__).parent / "cases" / "readable_bytes.json").read_text())[
    "cases"
]


@pytest.mark.parametrize(("n", "text"), BYTE_CASES)
def test_readable_bytes_says_what_the_widget_says(n: float, text: str) -> None:
    """The same table js/test/format.test.js checks formatBytes against."""
    assert readable_bytes(n) == text


def test_model_repr_is_short_and_says_the_state() -> None:
    def shown(**raw: object) -> str:
        return repr(Model.from_json({"id": "m", "name": "My Model", **raw}))

    assert shown(downloaded=True) == "<Model 'm' 'My Model', On device>"
    assert shown(downloaded=True, loaded=True) == "<Model 'm' 'My Model', On device · Loaded>"
    assert shown(downloading=True) == "<Model 'm' 'My Model', Downloading>"
    assert shown(cloud=True) == "<Model 'm' 'My Model', Cloud>"
    assert shown(partialBytes=46, bytes={"value": 100}, custom=True) == (
        "<Model 'm' 'My Model', Partly downloaded (46 %) · Custom>"
    )
    assert shown() == "<Model 'm' 'My Model', Not downloaded>"
    assert repr([Model.from_json({"id": "x"})]) == "[<Model 'x', Not downloaded>]"  # name = id
