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


def _models(state: WidgetState) -> dict:
    return {m["id"]: m["loaded"] for m in state.get("models")}


def test_a_stale_list_does_not_undo_a_newer_model() -> None:
    state = WidgetState({"models": [{"id": "a", "loaded": False}]}, lambda _: None)
    listing = state.ticket()  # the list's request is sent
    state.put_model({"id": "a", "loaded": True}, state.ticket())  # a load sent later lands first
    state.set_models([{"id": "a", "loaded": False}], listing)
    assert _models(state) == {"a": True}
    state.close()


def test_one_model_landing_during_a_list_read_does_not_hold_back_the_rest() -> None:
    """The unload_all flake: the list read after an unload lost to a single-model answer
    (a download's last look) that landed while it was on its way, and b stayed loaded."""
    state = WidgetState(
        {"models": [{"id": "a", "loaded": True}, {"id": "b", "loaded": True}]}, lambda _: None
    )
    listing = state.ticket()
    state.put_model({"id": "a", "loaded": False}, state.ticket())
    state.set_models([{"id": "a", "loaded": False}, {"id": "b", "loaded": False}], listing)
    assert _models(state) == {"a": False, "b": False}
    state.close()


def test_an_answer_sent_before_the_list_and_landing_after_it_is_dropped() -> None:
    state = WidgetState({"models": [{"id": "a", "loaded": True}]}, lambda _: None)
    early = state.ticket()  # e.g. a download's last look, sent before the unload
    state.set_models([{"id": "a", "loaded": False}], state.ticket())
    state.put_model({"id": "a", "loaded": True}, early)
    assert _models(state) == {"a": False}
    state.close()


def test_adds_and_removals_during_a_list_read_stay() -> None:
    state = WidgetState({"models": [{"id": "a"}, {"id": "gone"}]}, lambda _: None)
    listing = state.ticket()
    state.put_model({"id": "new"}, state.ticket())  # created while the list was on its way
    state.drop_model("gone", state.ticket())  # removed while the list was on its way
    state.set_models([{"id": "a"}, {"id": "gone"}], listing)
    assert [m["id"] for m in state.get("models")] == ["a", "new"]
    state.set_models([{"id": "a"}], state.ticket())  # a later list: "new" is gone for real
    assert [m["id"] for m in state.get("models")] == ["a"]
    state.close()


def _writers_over_flushes(flushes: int) -> tuple[list[threading.Thread], WidgetState]:
    """``flushes`` updates, each applied before the next is made: the threads that applied them
    (kept alive in the list, so no two share an identity)."""
    writers: list[threading.Thread] = []
    applied = threading.Condition()

    def apply(updates: dict) -> None:
        with applied:
            writers.append(threading.current_thread())
            applied.notify_all()

    state = WidgetState({"downloads": {}}, apply, rate=1000)
    for i in range(flushes):
        state.set_entry("downloads", "m", i)
        with applied:
            assert applied.wait_for(lambda i=i: len(writers) > i, timeout=5), f"flush {i} lost"
    return writers, state


def test_one_writer_thread_applies_every_flush() -> None:
    """A thread per flush cost more CPU than relaying the frames it carried: one writer, long
    lived, applies them all, and close() ends it."""
    writers, state = _writers_over_flushes(200)
    assert len(writers) == 200 and len(set(writers)) == 1, f"{len(set(writers))} writer threads"
    assert writers[0].is_alive()
    state.close()
    assert not writers[0].is_alive(), "close() joins the writer"
    assert not [t for t in threading.enumerate() if t.name == "pieces-widget-sync"]


def test_the_writer_leaves_when_idle_and_comes_back() -> None:
    applied: list = []
    state = WidgetState({"error": ""}, applied.append, linger=0.05)
    state.set(error="one")
    deadline = time.monotonic() + 5
    while [t for t in threading.enumerate() if t.name == "pieces-widget-sync"]:
        assert time.monotonic() < deadline, "the writer stayed while idle"
        time.sleep(0.01)
    assert applied == [{"error": "one"}]
    state.set(error="two")  # a writer again
    state.close()
    assert applied == [{"error": "one"}, {"error": "two"}]
    assert not [t for t in threading.enumerate() if t.name == "pieces-widget-sync"]


def test_close_sends_the_last_value_and_then_nothing() -> None:
    applied: list = []
    state = WidgetState({"error": ""}, applied.append, rate=0.5)  # a flush every 2 s at most
    state.set(error="first")
    state.set(error="last")
    state.close()  # well before the writer's turn: close applies it
    assert applied[-1] == {"error": "last"}
    state.set(error="after")  # refused at once: no writer is started to send it later
    assert not [t for t in threading.enumerate() if t.name == "pieces-widget-sync"]
    assert applied[-1] == {"error": "last"}
