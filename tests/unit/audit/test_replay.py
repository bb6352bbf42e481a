"""Replay rebuilds a case from its events on the pinned definition and names what differs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from flowengine import ChainBroken, ReplayMismatch
from flowengine.audit.replay import PinnedDefinitionMissing, Replayer, compare, replay
from flowengine.store.memory import MemoryStore
from tests.support.audit import CLERK, PROCESSES, at, new_engine, walk_standard


def test_replay_equals_the_live_case() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    result = replay(engine, case.id)
    assert result.ok and result.compared
    assert result.case is not None and compare(engine.case(case.id), result.case) == []
    assert result.case.state == "archived"
    assert [t.seq for t in result.timeline] == list(range(1, case.seq + 1))
    assert result.timeline[1].what == "fired accept"
    assert "acceptance_notice: met on time" in result.timeline[1].deadlines


def test_replay_without_the_engine_registry_uses_the_stored_definition_text() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    result = Replayer(engine.store).replay(case.id)  # a fresh registry: text from the store
    assert result.ok


def test_until_shows_the_case_as_it_stood() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    history = engine.history(case.id)
    result = replay(engine, case.id, until=history[2].at)
    assert result.case is not None
    assert result.case.state == history[2].dest
    assert result.folded == 3 and not result.compared and result.ok
    before = replay(engine, case.id, until=at("2026-03-01T00:00:00"))
    assert before.case is None and before.folded == 0


def test_an_edited_projection_is_named_by_field() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock, archive=False)
    store = engine.store
    assert isinstance(store, MemoryStore)
    stored = store.load_case(case.id)  # the store keeps a `Case` put there by hand as it is
    assert stored is not None
    store._cases[case.id] = stored
    stored.state = "archived"
    stored.data["petitioner_opinion"] = "unsatisfied"
    stored.deadlines["handling"].late = True
    result = replay(engine, case.id, strict=False)
    fields = [m.field for m in result.mismatches]
    assert fields == ["state", "data.petitioner_opinion", "deadlines.handling.late"]
    with pytest.raises(ReplayMismatch) as info:
        result.raise_for_problems()
    assert info.value.field_name == "state" and info.value.exit_code == 1


def test_a_tampered_event_raises_chain_broken_in_strict_mode() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    events = engine.store._events[case.id]  # type: ignore[attr-defined]
    event = list(engine.store.events(case.id))[4]
    events[4] = replace(event, actor=replace(event.actor, name="someone else"))
    with pytest.raises(ChainBroken) as info:
        replay(engine, case.id)
    assert info.value.seq == 5


def test_an_event_that_cannot_fold_is_a_fault_not_a_crash() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    events = engine.store._events[case.id]  # type: ignore[attr-defined]
    events[2] = replace(list(engine.store.events(case.id))[2],
                        effects=({"op": "met", "deadline": "nonexistent"},))
    result = replay(engine, case.id, strict=False)
    assert result.fault is not None and result.fault.seq == 3


def test_a_case_replays_on_its_pinned_version_not_the_newest(tmp_path: Path) -> None:
    engine, clock = new_engine()
    old = walk_standard(engine, clock)
    text = (PROCESSES / "standard_case.yaml").read_text(encoding="utf-8")
    changed = text.replace("subject: {type: text, required: true, title: 信访事项}",
                           "subject: {type: enum, values: [other], required: true}")
    assert changed != text
    (tmp_path / "standard_case.yaml").write_text(changed, encoding="utf-8")
    engine.load(tmp_path / "standard_case.yaml")
    assert engine.process("standard_case").digest != old.digest
    result = replay(engine, old.id)
    assert result.ok  # the new version would refuse the subject "噪音扰民"
    assert result.case is not None and result.case.digest == old.digest


def test_a_missing_pinned_definition_is_an_integrity_error() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    other = MemoryStore()
    other._events = engine.store._events  # type: ignore[attr-defined]
    other._cases = engine.store._cases  # type: ignore[attr-defined]
    with pytest.raises(PinnedDefinitionMissing) as info:
        Replayer(other).replay(case.id)
    assert info.value.exit_code == 1


def test_unknown_case() -> None:
    engine, _ = new_engine()
    from flowengine import CaseNotFound

    with pytest.raises(CaseNotFound):
        replay(engine, "C404")


def test_timeline_and_json_document() -> None:
    engine, clock = new_engine()
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"}, actor=CLERK)
    clock.set(at("2026-04-01T00:00:00"))
    engine.tick()
    doc = replay(engine, case.id).as_dict()
    assert doc["ok"] and doc["state"] == "registered"
    assert doc["timeline"][-1]["deadlines"] == [
        "acceptance_notice: overdue (still open past its due date)"]
    assert doc["deadline_outcomes"] == ["acceptance_notice: overdue (due 2026-03-17)"]
