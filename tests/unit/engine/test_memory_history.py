"""The in-memory store keeps a history the garbage collector does not scan, and hands out
events equal to those appended, never its own objects."""

from __future__ import annotations

import gc

from flowengine import Engine, SimulatedClock
from flowengine.store.memory import MemoryStore
from tests.support.audit import new_engine
from tests.support.engine import CLERK, ROOT, at

REFPROC = ROOT / "bench" / "refproc.yaml"


def _driven() -> tuple[Engine, str, list[object]]:
    engine = Engine(processes=[REFPROC], clock=SimulatedClock(at("2026-03-02T09:00")))
    seen: list[object] = []
    engine.subscribe(lambda events, case: seen.extend(events))
    case = engine.start("refproc", {"in_jurisdiction": True}, actor=CLERK)
    for trigger in ("triage", "decide", "investigate"):
        case = engine.fire(case.id, trigger, actor=CLERK)
    return engine, case.id, seen


def test_the_kept_history_is_not_tracked_by_the_collector() -> None:
    engine, case_id, _ = _driven()
    store = engine.store
    assert isinstance(store, MemoryStore)
    gc.collect()  # a tuple of untracked values is untracked by a pass of the collector;
    gc.collect()  # one holding such tuples (the data's items) by the next
    kept = store._events[case_id]
    assert len(kept) == 4
    assert not any(gc.is_tracked(row) for row in kept)


def test_events_read_back_equal_those_appended_and_are_fresh_objects() -> None:
    engine, case_id, appended = _driven()
    first = engine.history(case_id)
    assert first == appended
    assert [e.hash for e in first] == [e.hash for e in appended]  # type: ignore[attr-defined]
    first[0].data["in_jurisdiction"] = False  # type: ignore[index]
    again = engine.history(case_id)
    assert again[0].data == {"in_jurisdiction": True}
    assert all(e.sealed_body is None for e in again)  # the text only a database writes


def test_the_kept_projection_is_not_tracked_by_the_collector() -> None:
    engine, case_id, _ = _driven()
    store = engine.store
    assert isinstance(store, MemoryStore)
    gc.collect()
    gc.collect()
    assert not gc.is_tracked(store._cases[case_id])


def test_cases_read_back_equal_those_appended_and_are_the_callers_own() -> None:
    engine, case_id, _ = _driven()
    returned = engine.fire(case_id, "reply", actor=CLERK)
    loaded = engine.case(case_id)
    assert loaded == returned and loaded is not returned
    assert loaded.owner == CLERK and loaded.created_at is not None
    for case in (returned, loaded):  # neither what fire returned nor a read is the store's
        case.state = "closed"
        case.data["in_jurisdiction"] = False
        case.data["extra"] = 1
    again = engine.case(case_id)
    assert (again.state, again.data) == ("replied", {"in_jurisdiction": True})
    assert [c.id for c in engine.cases(process="refproc", state="replied")] == [case_id]
    assert engine.cases(process="other") == []


def test_a_case_with_deadlines_keeps_them_apart_from_the_callers_copy() -> None:
    engine, _ = new_engine()
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音扰民"},
                        actor=CLERK)
    assert case.deadlines
    name = next(iter(case.deadlines))
    case.deadlines[name].status = "met"
    case.deadlines[name].pauses.append((case.created_at.date(), case.created_at.date()))  # type: ignore[union-attr]
    again = engine.case(case.id)
    assert again.deadlines[name].status == "open" and again.deadlines[name].pauses == []
    assert again.deadlines[name] is not engine.case(case.id).deadlines[name]
    assert engine.store.due_cases(at("2030-01-01T00:00")) == [case.id]
