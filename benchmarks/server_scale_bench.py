"""Reference server at scale: four downloads at once, each from its own 100 MiB/s source, against
four parallel ``curl -o`` in the same run; and ``/model/update`` at 1,000 custom models."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from .common import (
    MiB,
    Row,
    ServerProcess,
    local_model,
    median_of,
    rotate,
    write_catalog,
    write_cloud_models,
)

BLOB = 256 * MiB
SOURCES = 4
SOURCE_RATE = 100 * MiB
RUNS = 5  # a run moves 1 GiB in ~2.6 s
UPDATES = 2000  # the journal outgrows the 4 MB state about once in 1,400: one rewrite at least
MODELS = 1000


@contextlib.contextmanager
def hubs_and_server(tmp: Path) -> Iterator[tuple[ServerProcess, list[str]]]:
    """``SOURCES`` hubs, each serving its own blob at ``SOURCE_RATE``, and a server whose models
    ``m0``... download from them; yields the server and the blob URLs."""
    tmp.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        entries, urls = [], []
        for i in range(SOURCES):
            blob = f"blob{i}.bin"
            catalog = write_catalog(tmp / f"hub{i}.json", [local_model("b", BLOB, blob=blob)])
            hub = stack.enter_context(ServerProcess(tmp / f"hub{i}", catalog, hub_rate=SOURCE_RATE))
            digest = (tmp / f"hub{i}" / "hub" / f"{blob}.sha256").read_text().strip()
            urls.append(f"{hub.url}/hub/{blob}")
            source = {"url": urls[-1], "sha256": digest, "bytes": BLOB}
            entries.append({"id": f"m{i}", "name": f"M{i}", "source": source})
        server = stack.enter_context(
            ServerProcess(tmp / "srv", write_catalog(tmp / "c.json", entries))
        )
        yield server, urls


def parallel_downloads(tmp: Path) -> list[Row]:
    """Aggregate MiB/s of four transfers at once (stream + sha256 + fsync + rename each) against
    four ``curl -o`` started together on the same four sources, and four ``curl -o`` each
    followed by an fsync of its file (the same durability as ours)."""
    with hubs_and_server(tmp / "parallel") as (server, urls):
        outs = [tmp / f"curl{i}.bin" for i in range(SOURCES)]
        session = requests.Session()

        def ours() -> None:
            for i in range(SOURCES):
                session.post(f"{server.url}/model/m{i}/download", timeout=10)
            pending = set(range(SOURCES))
            while pending:
                for i in list(pending):
                    model = session.get(f"{server.url}/model/m{i}", timeout=10).json()
                    assert "error" not in model, model
                    if model["downloaded"]:
                        pending.discard(i)
                time.sleep(0.01)

        def curl(durable: bool = False) -> None:
            then_fsync = ' && python3 -c "import os,sys; os.fsync(os.open(sys.argv[1], 0))" "$1"'
            script = 'curl -s -o "$1" "$2"' + (then_fsync if durable else "")
            procs = [
                subprocess.Popen(["bash", "-c", script, "curl", str(out), url])
                for out, url in zip(outs, urls, strict=True)
            ]
            assert all(p.wait() == 0 for p in procs)

        def clean_up() -> None:
            for i in range(SOURCES):
                session.post(f"{server.url}/models/m{i}/delete/cache", json={}, timeout=10)
            for out in outs:
                out.unlink(missing_ok=True)
            subprocess.run(["sync"], check=True)

        runners: dict[str, Callable[[], object]] = {
            "ours": ours,
            "4 x curl -o": curl,
            "4 x (curl -o + fsync)": lambda: curl(durable=True),
        }
        times = rotate(runners, RUNS, clean_up)
        session.close()
    total = SOURCES * BLOB / MiB
    rates = {name: total / median_of(samples) for name, samples in times.items()}
    ours_rate = rates.pop("ours")
    return [
        Row(
            f"{SOURCES} downloads at once, each 256 MiB from its own 100 MiB/s source "
            f"(aggregate MiB/s) vs {name}",
            f"{ours_rate:.0f}",
            f"{name} {rate:.0f}",
            ours_rate / rate,
            ">= 0.95x",
            ours_rate / rate >= 0.95,
        )
        for name, rate in rates.items()
    ]


def update_at_scale(tmp: Path) -> Row:
    """``POST /model/update`` at 1,000 custom models (a 4 MB state): the median answer time."""
    data = tmp / "scale"
    ids = write_cloud_models(data, MODELS)
    with ServerProcess(data, write_catalog(tmp / "none.json", [])) as server:
        listed = requests.get(f"{server.url}/models", timeout=30).json()["iterable"]
        assert len(listed) == MODELS, len(listed)
        session = requests.Session()
        times = []
        for i in range(UPDATES):
            body = {"id": ids[i % MODELS], "description": f"edit {i} " + "e" * 3000}
            began = time.perf_counter()
            answer = session.post(f"{server.url}/model/update", json=body, timeout=10)
            times.append(time.perf_counter() - began)
            assert answer.ok, answer.text
        session.close()
    median_ms = median_of(times) * 1000
    p95 = statistics.quantiles(times, n=20)[-1] * 1000
    return Row(
        f"/model/update at {MODELS} custom models (ms, median of {UPDATES})",
        f"{median_ms:.1f} (p95 {p95:.1f}, max {max(times) * 1000:.1f})",
        "target 20",
        median_ms / 20,
        "<= 1.0x",
        median_ms <= 20,
    )


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        return [update_at_scale(Path(tmp)), *parallel_downloads(Path(tmp))]
