"""The one writer: values from many threads reach ``apply`` in the order they were made."""

from __future__ import annotations

import threading
import time

from pieces_widget.widget.sync import WidgetState


def _eight_threads_tick() -> tuple[dict, WidgetState]:
    applied: dict = {}

    def apply(updates: dict) -> None:
        time.sleep(0.001)  # a real apply takes time: a second flush may want to overtake
        applied.update(updates)

    state = WidgetState({"downloads": {}, "models": []}, apply, rate=1000)

    def ticks(n: int) -> None:
        for i in range(200):
            state.set_entry("downloads", f"m{n}", i)

    threads = [threading.Thread(target=ticks, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state.close()
    return applied, state


def test_many_threads_the_last_value_is_what_is_applied() -> None:
    for _ in range(30):
        applied, state = _eight_threads_tick()
        assert applied["downloads"] == state.get("downloads") == {f"m{n}": 199 for n in range(8)}


def test_a_stale_list_does_not_undo_a_newer_model() -> None:
    state = WidgetState({"models": [{"id": "a", "loaded": False}]}, lambda _: None)
    since = state.generation
    state.put_model({"id": "a", "loaded": True})  # a load finished while the list was fetched
    assert not state.set_models_unless_changed([{"id": "a", "loaded": False}], since)
    assert state.get("models") == [{"id": "a", "loaded": True}]
    state.close()
