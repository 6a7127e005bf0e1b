"""State that survives bad files and a second process (issue 7, point 3): bad state.json kept
aside, read-only fields ignored, /model/update validated and capped, one server per data
directory, files opened without following symlinks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import websocket
from serverproc import REPO, ServerProcess, local_model, write_catalog
from test_server_schema import validate
from wsframes import progress_url, read_frames

TINY = [
    local_model("small", 64 * 1024, name="Small Model", custom=True),
    local_model("plain", 4096),
]
BAD_STATES = {
    "empty": b"",
    "truncated": b'{"version": 1, "edits": {"small": {"name": "Half',
    "not utf-8": b'{"edits": {"small": {"name": "\xff\xfe"}}}',
    "a list": b"[1, 2, 3]",
    "edits not an object": b'{"edits": ["small"]}',
    "an edit not an object": b'{"edits": {"small": "renamed"}}',
    "created not records": b'{"edits": {}, "created": {"x": 5}}',
    "nested too deep": b"[" * 100000,
}


def stem(model_id: str) -> str:
    return hashlib.sha256(model_id.encode()).hexdigest()


@pytest.fixture
def tiny_catalog(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "tiny.json", TINY)


def test_bad_state_files_are_kept_aside(tmp_path: Path, tiny_catalog: Path) -> None:
    for index, (kind, content) in enumerate(BAD_STATES.items()):
        data = tmp_path / f"data{index}"
        data.mkdir()
        (data / "state.json").write_bytes(content)
        with ServerProcess(data, tiny_catalog) as server:
            model = requests.get(f"{server.url}/model/small", timeout=5).json()
            assert model["name"] == "Small Model", kind
            (aside,) = data.glob("state.json.bad-*")
            assert aside.read_bytes() == content, kind
            assert not (data / "state.json").exists()
            warnings = [line for line in server.log().splitlines() if "state.json" in line]
            assert len(warnings) == 1 and "kept aside as state.json.bad-" in warnings[0], kind
            # The server starts clean and can save again.
            edit = requests.post(
                f"{server.url}/model/update", json={"id": "small", "name": "Fresh"}, timeout=5
            )
            assert edit.ok, (kind, edit.text)
        assert json.loads((data / "state.json").read_text())["edits"]["small"]["name"] == "Fresh"


def test_read_only_fields_in_state_are_ignored(tmp_path: Path, tiny_catalog: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    edits = {
        "small": {
            "id": "hijacked",
            "bytes": {"value": 1, "readable": "1 B"},
            "downloaded": True,
            "cloud": True,
            "name": "Kept",
            "foundation": "NOT_AN_ENUM",
        }
    }
    (data / "state.json").write_text(json.dumps({"edits": edits}))
    with ServerProcess(data, tiny_catalog) as server:
        model = requests.get(f"{server.url}/model/small", timeout=5).json()
        validate(model, "Model")
        assert model["id"] == "small" and model["name"] == "Kept"
        assert model["bytes"]["value"] == 64 * 1024 and model["downloaded"] is False
        assert model["cloud"] is False and "foundation" not in model
        assert "ignored 5 read-only or invalid" in server.log()


BAD_UPDATES = [
    ({"name": 5}, "'name' must be a string"),
    ({"name": "x" * 201}, "'name' is too long: 201 characters, at most 200"),
    ({"name": "   "}, "'name' must not be empty"),
    ({"description": "d" * 4001}, "'description' is too long"),
    ({"foundation": "GPT_9000"}, "'foundation' must be one of the spec's ModelFoundationEnum"),
    ({"type": "FAST"}, "ModelTypeEnum"),
    ({"cpu": "yes"}, "'cpu' must be true or false"),
    ({"parameters": "7B"}, "'parameters' must be a number"),
    ({"maxTokens": {"total": 1, "junk": "x" * 1000}}, "'maxTokens' has unknown keys"),
    ({"maxTokens": {"input": 5}}, "'maxTokens' needs 'total'"),
    ({"capabilities": {"images": 1}}, "'capabilities.images' must be true or false"),
    ({"payload": ["x"] * 100}, "unknown field 'payload'"),
    ({"description": "x" * 70_000}, "the body is too large"),
]


def test_update_validation(fast_server: ServerProcess) -> None:
    url = fast_server.url
    before = requests.get(f"{url}/model/small", timeout=5).json()
    for fields, message in BAD_UPDATES:
        answer = requests.post(f"{url}/model/update", json={"id": "small", **fields}, timeout=5)
        assert answer.status_code == 400 and message in answer.text, (fields, answer.text)
        assert answer.headers["Content-Type"].startswith("text/plain")
    assert requests.get(f"{url}/model/small", timeout=5).json() == before


def test_updates_cannot_bloat_the_state(fast_server: ServerProcess) -> None:
    url = fast_server.url
    model = requests.get(f"{url}/model/small", timeout=5).json()
    for i in range(25):
        full = {**model, "name": f"Name {i}", "description": "d" * 4000, "maxTokens": {"total": i}}
        full.update(parameters=7.5, cpu=True, foundation="LLAMA_3_8B", provider="META")
        full.update(capabilities={"images": True}, error="old", partialBytes=5, score={})
        answer = requests.post(f"{url}/model/update", json=full, timeout=5)
        assert answer.ok, answer.text
        validate(answer.json(), "Model")
    assert (fast_server.data_dir / "state.json").stat().st_size < 6000
    listing = requests.get(f"{url}/models", timeout=5)
    assert len(listing.content) < 12000
    validate(listing.json(), "Models")
    assert listing.json()["iterable"][0]["name"] == "Name 24"


def test_a_second_server_on_the_same_data_dir_exits_at_once(
    tmp_path: Path, tiny_catalog: Path
) -> None:
    with ServerProcess(tmp_path / "data", tiny_catalog) as first:
        assert first.proc is not None
        data_args = ["--data-dir", str(tmp_path / "data"), "--catalog", str(tiny_catalog)]
        began = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "pieces_widget.server", "--port", "0", *data_args],
            capture_output=True,
            text=True,
            timeout=20,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert time.monotonic() - began < 3
        assert second.returncode != 0 and second.stdout == ""
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert str((tmp_path / "data").resolve()) in lines[0]
        assert f"pid {first.proc.pid}" in lines[0] and first.url in lines[0]
        assert requests.get(f"{first.url}/.well-known/health", timeout=5).ok
    with ServerProcess(tmp_path / "data", tiny_catalog):  # the lock went with the first one
        pass


def test_symlinks_are_never_followed(tmp_path: Path, tiny_catalog: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"precious" * 8192)  # 64 KiB, the size of "small"
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / f"{stem('small')}.part").symlink_to(outside)
    (data / "models" / f"{stem('plain')}.bin").symlink_to(outside)
    with ServerProcess(data, tiny_catalog) as server:
        url = server.url
        ws = websocket.create_connection(progress_url(url, "small"), timeout=5)
        requests.post(f"{url}/model/small/download", timeout=5)
        frames, _ = read_frames(ws)
        last = frames[-1][1]
        assert last["status"] == "FAILED" and "symlink" in last["error"], last
        plain = requests.get(f"{url}/model/plain", timeout=5).json()
        assert plain["downloaded"] is False  # a symlinked weights file is not ours
        refused = requests.post(f"{url}/model/plain/load", timeout=5)
        assert refused.status_code == 500
    assert outside.read_bytes() == b"precious" * 8192
