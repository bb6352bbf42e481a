"""`verify_store` checks every case of a store and names each broken case and event."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flowengine import Engine, SimulatedClock
from flowengine.audit.verify import _Verifier, verify_store
from flowengine.records.events import GENESIS, Event, seal
from flowengine.store.memory import MemoryStore
from tests.support.audit import new_engine, walk_standard


@pytest.fixture
def three() -> tuple[Engine, SimulatedClock, list[str]]:
    engine, clock = new_engine()
    ids = [walk_standard(engine, clock, petitioner=p).id for p in ("甲", "乙", "丙")]
    return engine, clock, ids


def _store(engine: Engine) -> MemoryStore:
    assert isinstance(engine.store, MemoryStore)
    return engine.store


def test_an_untouched_store_verifies(three: tuple[Engine, SimulatedClock, list[str]]) -> None:
    engine, _, ids = three
    rep = verify_store(engine.store)
    assert rep.ok and rep.cases == 3
    assert rep.events == sum(engine.case(i).seq for i in ids)


def test_each_broken_case_is_named_with_its_event(
        three: tuple[Engine, SimulatedClock, list[str]]) -> None:
    engine, _, (a, b, c) = three
    store = _store(engine)
    store._events[a][6] = replace(list(store.events(a))[6], data={"findings": "不属实"})
    del store._events[c][2]
    seen: list[object] = []
    rep = verify_store(store, on_problem=seen.append)
    assert [(p.case_id, p.seq, p.kind) for p in rep.problems] == [(a, 7, "chain"), (c, 3, "chain")]
    assert seen == rep.problems
    assert rep.as_dict()["broken"][0] == {"case": a, "seq": 7, "kind": "chain",
                                          "why": rep.problems[0].why}


def test_an_edited_projection_is_named(three: tuple[Engine, SimulatedClock, list[str]]) -> None:
    engine, _, (a, b, c) = three
    store = _store(engine)
    stored = store.load_case(b)  # the store keeps a `Case` put there by hand as it is
    assert stored is not None
    stored.state = "closed"
    store._cases[b] = stored
    rep = verify_store(store)
    assert [(p.case_id, p.seq, p.kind) for p in rep.problems] == [(b, engine.case(b).seq,
                                                                   "projection")]
    assert "state: stored 'closed', replayed 'archived'" in rep.problems[0].why


def test_a_deleted_last_event_is_named(three: tuple[Engine, SimulatedClock, list[str]]) -> None:
    engine, _, (a, b, c) = three
    store = _store(engine)
    last = list(store.events(b))[-1]
    store._events[b].pop()
    rep = verify_store(store)
    assert [(p.case_id, p.seq) for p in rep.problems] == [(b, last.seq)]


def test_a_case_record_without_events_is_named(
        three: tuple[Engine, SimulatedClock, list[str]]) -> None:
    engine, _, (a, b, c) = three
    store = _store(engine)
    del store._events[c]
    rep = verify_store(store)
    assert [(p.case_id, p.kind) for p in rep.problems] == [(c, "missing")]


def test_verify_streams_one_case_at_a_time(
        three: tuple[Engine, SimulatedClock, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """all_events() is consumed lazily: with batches of one case, case 1's record is read
    (and the case checked and dropped) before more than one event of case 2 is read."""
    monkeypatch.setattr(_Verifier, "BATCH", 1)
    engine, _, ids = three
    store = _store(engine)
    order: list[str] = []
    real = store.all_events

    def spying():  # type: ignore[no-untyped-def]
        for event in real():
            order.append(f"read {event.case_id}")
            yield event

    store.all_events = spying  # type: ignore[method-assign]
    real_load = store.load_case

    def load(case_id: str):  # type: ignore[no-untyped-def]
        order.append(f"load {case_id}")
        return real_load(case_id)

    store.load_case = load  # type: ignore[method-assign]
    verify_store(store)
    first_load = order.index(f"load {ids[0]}")
    assert order[first_load - 1] == f"read {ids[1]}"  # only one event of case 2 read so far
    assert order[:first_load - 1] == [f"read {ids[0]}"] * engine.case(ids[0]).seq


def test_a_case_whose_definition_is_not_stored_is_named_not_fatal(
        three: tuple[Engine, SimulatedClock, list[str]]) -> None:
    engine, _, (a, b, c) = three
    store = _store(engine)
    resealed: list[tuple[Any, ...] | Event] = []  # the store keeps an Event as it is
    prev = GENESIS  # a consistent chain naming an unknown definition
    for event in store.events(b):
        event = seal(replace(event, digest="f" * 64, prev_hash=prev))
        resealed.append(event)
        prev = event.hash
    store._events[b] = resealed
    stored = store.load_case(b)
    assert stored is not None
    stored.last_hash = prev
    store._cases[b] = stored
    rep = verify_store(store)
    assert [(p.case_id, p.seq) for p in rep.problems] == [(b, 1)]
    assert "definition version ffffffffffff… is not stored" in rep.problems[0].why
