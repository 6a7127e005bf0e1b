"""State writes at scale (issue 18, point 13): at 1,000 custom models (4 MB of state) an update
does not rewrite state.json on the event loop. Changes go to a journal, fdatasynced in the
writer thread, a burst together in one write; the state is written whole again off the loop,
once the journal outgrows it and at shutdown. A crash keeps every acknowledged change; a line
torn by the crash, or a journal older than the snapshot, is ignored."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from serverproc import ServerProcess, write_catalog, write_cloud_models

from pieces_widget.server import statefile
from pieces_widget.server.statefile import StateFile
from pieces_widget.server.store import ModelStore

MODELS = 1000


def test_an_update_at_scale_is_journaled_and_survives_a_kill(tmp_path: Path) -> None:
    ids = write_cloud_models(tmp_path / "data", MODELS)
    catalog = write_catalog(tmp_path / "c.json", [])
    with ServerProcess(tmp_path / "data", catalog) as server:
        snapshot = server.data_dir / "state.json"
        before = snapshot.stat()
        for i in range(20):
            body = {"id": ids[i], "description": f"edited {i}"}
            answer = requests.post(f"{server.url}/model/update", json=body, timeout=5)
            assert answer.ok and answer.json()["description"] == f"edited {i}"
        after = snapshot.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert (server.data_dir / "state.journal").stat().st_size < 20 * 300
        server.kill()  # no shutdown: only the journal has the changes
        server.start()
        for i in range(20):
            model = requests.get(f"{server.url}/model/{ids[i]}", timeout=5).json()
            assert model["description"] == f"edited {i}"
    # A clean stop folds the journal into state.json.
    state = json.loads((tmp_path / "data" / "state.json").read_text())
    assert state["edits"][ids[19]]["description"] == "edited 19"
    assert len(state["created"]) == MODELS


def test_writes_run_off_the_loop_and_bursts_coalesce(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = write_cloud_models(tmp_path / "data", MODELS)
    syncs: list[int] = []  # the thread of each fsync / fdatasync
    for name in ("fsync", "fdatasync"):
        real = getattr(os, name)

        def recorded(fd: int, real: Any = real) -> None:
            syncs.append(threading.get_ident())
            real(fd)

        monkeypatch.setattr(os, name, recorded)

    async def burst() -> tuple[int, float]:
        store = ModelStore(tmp_path / "data", {})
        loop_thread = threading.get_ident()
        stalls = []

        async def ticker() -> None:  # how late the loop wakes a 1 ms sleep: the measure
            while True:
                began = time.perf_counter()
                await asyncio.sleep(0.001)
                stalls.append(time.perf_counter() - began)

        ticking = asyncio.ensure_future(ticker())
        await asyncio.gather(
            *(store.save_edits(i, {"description": f"burst {i}"}) for i in ids[:200])
        )
        ticking.cancel()
        assert all(store.edits[i]["description"] == f"burst {i}" for i in ids[:200])
        await store.close()
        assert loop_thread not in syncs, "a write ran on the event loop"
        return len(syncs), max(stalls)

    count, stall = asyncio.run(burst())
    # 200 changes: one journal created, a few group commits, one state.json at close.
    assert count <= 12, f"{count} fsyncs for a burst of 200 changes"
    print(f"200 updates at {MODELS} models: {count} fsyncs, loop stalled <= {stall * 1e3:.1f} ms")
    reloaded = ModelStore(tmp_path / "data", {})
    assert reloaded.edits[ids[199]]["description"] == f"burst {ids[199]}"
    assert (
        not (tmp_path / "data" / "state.journal").exists()
        or json.loads((tmp_path / "data" / "state.journal").read_text().splitlines()[0])[
            "generation"
        ]
        != json.loads((tmp_path / "data" / "state.json").read_text())["generation"]
    )


def edit(model_id: str, description: str) -> dict[str, Any]:
    return {"op": "edit", "id": model_id, "fields": {"description": description}}


async def commit_all(state: StateFile, ops: list[dict[str, Any]]) -> None:
    for op in ops:
        await state.commit(op)


def test_a_torn_line_and_a_stale_journal_are_ignored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = write_cloud_models(data, MODELS)
    first = StateFile(data)
    first.load()
    asyncio.run(commit_all(first, [edit(ids[0], "one"), edit(ids[1], "two")]))
    # A crash mid-append: half a line at the end (it was never acknowledged).
    with open(data / "state.journal", "ab") as journal:
        journal.write(b'{"op": "edit", "id": "c0002", "fields": {"descr')
    second = StateFile(data)
    state = second.load()
    assert state.edits[ids[0]]["description"] == "one" and ids[2] not in state.edits
    asyncio.run(commit_all(second, [edit(ids[3], "three")]))  # written over the torn tail
    third = StateFile(data)
    assert third.load().edits[ids[3]]["description"] == "three"
    lines = (data / "state.journal").read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)
    # A journal older than the snapshot (a crash right after a rewrite) adds nothing.
    header = json.loads(lines[0])
    stale = json.dumps({"generation": header["generation"] - 1}).encode()
    (data / "state.journal").write_bytes(b"\n".join([stale, *lines[1:]]) + b"\n")
    assert ids[3] not in StateFile(data).load().edits


def test_a_failed_append_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    ids = write_cloud_models(data, MODELS)
    state = StateFile(data)
    state.load()
    asyncio.run(commit_all(state, [edit(ids[0], "kept")]))
    real_pwrite = os.pwrite

    def full(fd: int, data: Any, offset: int) -> int:
        real_pwrite(fd, bytes(data[:10]), offset)  # part of the line reaches the disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(statefile.os, "pwrite", full)
    with pytest.raises(OSError, match="No space"):
        asyncio.run(commit_all(state, [edit(ids[1], "lost")]))
    assert ids[1] not in state.state.edits
    monkeypatch.setattr(statefile.os, "pwrite", real_pwrite)
    asyncio.run(commit_all(state, [edit(ids[2], "after")]))
    reloaded = StateFile(data).load()
    assert reloaded.edits[ids[0]]["description"] == "kept"
    assert ids[1] not in reloaded.edits and reloaded.edits[ids[2]]["description"] == "after"
