"""The server under a stateful fuzz and under load (issue 18): several clients send valid and
hostile requests at random while the server is stopped (SIGTERM) or killed (SIGKILL) between
phases; then creates racing for one name, many progress watchers, concurrent lists at 1,000
models. Bounded for `make test`; ``PIECES_FUZZ_PHASES`` and ``PIECES_FUZZ_SECONDS`` make the
longer run whose figures the README gives."""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from hostile_source import HostileSource, blob_of
from serverproc import MiB, ServerProcess, local_model, write_catalog, write_cloud_models

PHASES = int(os.environ.get("PIECES_FUZZ_PHASES", "4"))
SECONDS = float(os.environ.get("PIECES_FUZZ_SECONDS", "2"))
CLIENTS = 4
CATALOG = [local_model(f"hub{i}", 2 * MiB, custom=True) for i in range(4)]

HOSTILE_BODIES: list[Any] = [
    {"id": 5},
    {"name": ["x"]},
    {"name": "\ud800"},
    {"name": "n", "ram": {"value": 10**5000}},
    {"name": "n", "source": {"url": "http://127.0.0.1:99999/x"}},
    {"name": "n", "source": {"url": "http://[::1/x"}},
    {"name": "n", "source": {"url": "ftp://example.org/x"}},
    {"name": "n", "unknownField": 1},
    {"name": "x" * 5000},
    "not an object",
    None,
]


def deep(depth: int) -> str:
    return '{"name": ' + "[" * depth + "]" * depth + "}"


class Client:
    """One fuzzing client: its own session, its own created models and edits (so that "the last
    acknowledged edit" of a model is well defined), and counts of what it was answered."""

    def __init__(self, index: int, rng: random.Random, source: str) -> None:
        self.index = index
        self.rng = rng
        self.source = source
        self.session = requests.Session()
        self.created: set[str] = set()  # acknowledged creates, not acknowledged removed
        self.removed: set[str] = set()
        self.uncertain: set[str] = set()  # a create or remove cut by the kill: either is right
        self.edits: dict[str, str] = {}  # model id -> last acknowledged description
        self.edit_in_flight: dict[str, str] = {}
        self.statuses: Counter[int] = Counter()
        self.refusals: Counter[str] = Counter()  # what the 500s said, up to the first ":"
        self.problems: list[str] = []
        self.made = 0

    def own_ids(self) -> list[str]:
        return sorted(self.created) or [CATALOG[self.index % len(CATALOG)]["id"]]

    def check(self, what: str, answer: requests.Response) -> None:
        """Errors are one line of text (as Pieces OS answers them), never a traceback; a
        success is JSON or empty."""
        self.statuses[answer.status_code] += 1
        text = answer.text
        if answer.status_code >= 500:
            self.refusals[text.split(":")[0][:60]] += 1
        if answer.status_code >= 400:
            if "Traceback" in text or "\n" in text.strip() or not text.strip():
                self.problems.append(f"{what}: {answer.status_code} {text[:200]!r}")
        elif text:
            try:
                answer.json()
            except ValueError:
                self.problems.append(f"{what}: not JSON ({answer.status_code}) {text[:80]!r}")

    def step(self, url: str, models: list[str]) -> None:
        rng, post = self.rng, self.session.post
        roll = rng.random()
        if roll < 0.15:
            self.made += 1
            name = f"Fuzz {self.index}-{self.made}-{rng.randrange(10**6)}"
            body = {"name": name, "cloud": True} if rng.random() < 0.5 else None
            body = body or {"name": name, "source": {"url": self.source}}
            self.uncertain.add(name)
            answer = post(f"{url}/models/create", json=body, timeout=10)
            self.uncertain.discard(name)
            self.check("create", answer)
            if answer.ok:
                self.created.add(answer.json()["id"])
        elif roll < 0.25:
            body = rng.choice(HOSTILE_BODIES)
            route = rng.choice(["/models/create", "/model/update", "/connect"])
            answer = post(f"{url}{route}", json=body, timeout=10)
            self.check(f"hostile {route}", answer)
            if answer.status_code != 400 and route != "/connect":
                self.problems.append(f"hostile {route} {str(body)[:60]}: {answer.status_code}")
        elif roll < 0.3:
            answer = post(
                f"{url}/models/create",
                data=deep(rng.choice([40, 3000, 30000])),
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
            self.check("deep create", answer)
            if answer.status_code != 400:
                self.problems.append(f"deep create: {answer.status_code}")
        elif roll < 0.5:
            model_id = rng.choice(self.own_ids())
            text = f"edit {rng.random():.9f}"
            self.edit_in_flight[model_id] = text
            answer = post(f"{url}/model/update", json={"id": model_id, "description": text})
            self.edit_in_flight.pop(model_id)
            self.check("update", answer)
            if answer.ok:
                self.edits[model_id] = text
        elif roll < 0.6 and self.created:
            model_id = rng.choice(sorted(self.created))
            self.uncertain.add(model_id)
            answer = post(f"{url}/models/{model_id}/delete", timeout=10)
            self.uncertain.discard(model_id)
            self.check("remove", answer)
            if answer.ok:
                self.created.discard(model_id)
                self.removed.add(model_id)
                self.edits.pop(model_id, None)
        elif roll < 0.8:
            model_id = rng.choice([*models, "no-such-model", "../../etc/passwd"])
            verb = rng.choice(["download", "download/cancel", "load", "unload"])
            path = f"/models/{model_id}/delete/cache" if rng.random() < 0.2 else None
            answer = post(url + (path or f"/model/{model_id}/{verb}"), timeout=10)
            self.check(path or verb, answer)
        elif roll < 0.9:
            answer = self.session.get(f"{url}/models", timeout=10)
            self.check("list", answer)
            for model in answer.json().get("iterable", []) if answer.ok else []:
                if model.get("downloaded") and model.get("downloading"):
                    self.problems.append(f"downloaded and downloading at once: {model['id']}")
        else:
            model_id = rng.choice(models)
            ws = websocket.create_connection(
                f"{url.replace('http', 'ws')}/model/{model_id}/download/progress", timeout=5
            )
            try:
                ws.settimeout(0.2)
                try:
                    frame = ws.recv()
                    if frame:  # "" is the server's close
                        json.loads(frame)
                except websocket.WebSocketTimeoutException:
                    pass  # nothing to say for a model that is not downloading
            finally:
                ws.close()
            self.statuses[101] += 1

    def run(self, url: str, models: list[str], until: float) -> None:
        while time.monotonic() < until:
            try:
                self.step(url, models)
            except (requests.RequestException, websocket.WebSocketException, OSError):
                return  # the server went away under us (the phase's end)


def check_after_restart(url: str, clients: list[Client]) -> int:
    """Every acknowledged create is there, every acknowledged remove is gone, the last
    acknowledged edit of each model is kept (or the one cut by the kill replaced it)."""
    listed = {m["id"]: m for m in requests.get(f"{url}/models", timeout=10).json()["iterable"]}
    checked = 0
    for client in clients:
        for model_id in client.created:
            assert model_id in listed or model_id in client.uncertain, model_id
        for model_id in client.removed - client.uncertain:
            assert model_id not in listed, model_id
        for model_id, text in client.edits.items():
            if model_id not in listed:
                continue
            seen = listed[model_id].get("description")
            if seen == client.edit_in_flight.get(model_id):
                client.edits[model_id] = seen  # saved after all
            assert client.edits[model_id] == seen, (model_id, seen, text)
            checked += 1
        # What was cut is settled now: adopt what the server kept.
        for model_id in list(client.uncertain):
            if model_id in listed:
                client.created.add(model_id)
        client.uncertain.clear()
        client.edit_in_flight.clear()
    return checked


def test_stateful_fuzz_with_restarts(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("PIECES_FUZZ_SEED", "18")))
    source = HostileSource(blob_of(1 * MiB, "fuzz"))
    catalog = write_catalog(tmp_path / "c.json", CATALOG)
    server = ServerProcess(tmp_path / "data", catalog, hub_rate=16 * MiB)
    clients = [Client(i, random.Random(rng.random()), source.url) for i in range(CLIENTS)]
    kept = restarts = 0
    try:
        server.start()
        for phase in range(PHASES):
            models = [m["id"] for m in CATALOG]
            until = time.monotonic() + SECONDS
            threads = [
                threading.Thread(target=c.run, args=(server.url, models, until)) for c in clients
            ]
            for thread in threads:
                thread.start()
            time.sleep(SECONDS * rng.uniform(0.5, 1.0))  # the stop lands mid-traffic
            server.kill() if phase % 2 else server.stop()
            for thread in threads:
                thread.join()
            restarts += 1
            server.start()
            assert not list(server.data_dir.glob("*.bad-*")), "state.json was unreadable"
            kept += check_after_restart(server.url, clients)
    finally:
        server.stop()
        source.close()
    problems = [p for c in clients for p in c.problems]
    assert not problems, problems[:10]
    statuses = sum((c.statuses for c in clients), Counter())
    assert "Traceback" not in server.log()
    refusals = sum((c.refusals for c in clients), Counter())
    total = sum(statuses.values())
    assert total > 50 * PHASES, statuses
    print(
        f"stateful fuzz: {total} requests from {CLIENTS} clients over {restarts} restarts "
        f"({restarts - restarts // 2} SIGTERM, {restarts // 2} SIGKILL); answers {dict(statuses)}; "
        f"no 5xx with a traceback, every hostile body 400; {kept} last edits checked kept; "
        f"the 500s said {dict(refusals)}"
    )


@pytest.fixture
def crowded(tmp_path: Path) -> ServerProcess:
    """A server with 1,000 custom models in its state (the cap) and two small catalog models."""
    data = tmp_path / "data"
    write_cloud_models(data, 998, description=200)
    catalog = write_catalog(tmp_path / "c.json", CATALOG[:2])
    with ServerProcess(data, catalog, hub_rate=4 * MiB) as server:
        yield server


def race(clients: int, url: str, body: dict[str, Any]) -> list[int]:
    """The status codes of ``clients`` POSTs of ``body`` released at the same moment."""
    barrier, answers = threading.Barrier(clients), []

    def post() -> None:
        barrier.wait()
        answers.append(requests.post(url, json=body, timeout=30).status_code)

    threads = [threading.Thread(target=post) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_load_creates_race_watchers_and_lists(crowded: ServerProcess) -> None:
    url = crowded.url
    # Creates racing for one name: one wins, the rest are refused as duplicates, none lost.
    winners = []
    for round_ in range(2):
        answers = race(8, f"{url}/models/create", {"name": f"Racer {round_}", "cloud": True})
        winners.append(answers.count(200))
        assert sorted(answers) == [200] + [500] * 7, answers
    over = requests.post(f"{url}/models/create", json={"name": "One too many", "cloud": True})
    assert over.status_code in (400, 500) and "1000" in over.text.replace(",", ""), over.text

    # Many watchers on two downloads: every watcher sees its model's COMPLETED frame.
    watchers, seen = 40, Counter()
    lock, connected = threading.Lock(), threading.Semaphore(0)

    def watch(model_id: str) -> None:
        ws = websocket.create_connection(
            f"{url.replace('http', 'ws')}/model/{model_id}/download/progress", timeout=20
        )
        connected.release()
        try:
            while True:
                frame = json.loads(ws.recv())
                if frame.get("status") in ("COMPLETED", "FAILED", "CANCELED"):
                    with lock:
                        seen[frame["status"]] += 1
                    return
        finally:
            ws.close()

    ids = [m["id"] for m in CATALOG[:2]]
    threads = [threading.Thread(target=watch, args=(ids[i % 2],)) for i in range(watchers)]
    for thread in threads:
        thread.start()
    for _ in range(watchers):  # every watcher is connected before the downloads start
        assert connected.acquire(timeout=20)
    for model_id in ids:
        assert requests.post(f"{url}/model/{model_id}/download", timeout=5).ok

    # Lists at 1,000 models while they run, from 8 clients at once.
    latencies: list[float] = []
    wrong: list[str] = []

    def lister() -> None:
        session = requests.Session()
        for _ in range(15):
            start = time.perf_counter()
            answer = session.get(f"{url}/models", timeout=30)
            latencies.append(time.perf_counter() - start)
            if not answer.ok or len(answer.json()["iterable"]) != 1002:
                wrong.append(f"{answer.status_code} {answer.text[:100]}")

    listers = [threading.Thread(target=lister) for _ in range(8)]
    for thread in listers:
        thread.start()
    for thread in listers + threads:
        thread.join(60)
    assert not wrong, wrong[:3]
    assert seen == Counter({"COMPLETED": watchers}), seen
    assert len(latencies) == 8 * 15
    p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[18]
    print(
        f"load: 8 creates racing for one name x{len(winners)}: one won each time, 7 refused; "
        f"{watchers} watchers on 2 downloads all saw COMPLETED; 120 lists of 1,002 models from "
        f"8 clients at once: median {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
