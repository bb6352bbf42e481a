"""New evidence on a medical complaint: a closed complaint is reopened in the same case
(`reopen`, counted in `reopened_times`); an archived one cannot be (nothing leaves a final
state), so the new complaint is a new case linked to it by `duplicate_of` and flagged
`follows_archived_complaint`, and the report counts it as a repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, Engine, SimulatedClock, TriggerRejected
from flowengine.audit.report import report

ROOT = Path(__file__).resolve().parents[3]
TZ = ZoneInfo("Asia/Shanghai")
RECEPTION, DIRECTOR = Actor("王芳", "reception"), Actor("李明", "office_director")
COMPLAINT = {"complainant": "陈某", "relation": "patient", "patient": "陈某",
             "department_kind": "outpatient", "summary": "候诊时间过长"}


def _closed(engine: Engine, clock: SimulatedClock) -> str:
    case = engine.start("medical_dispute", COMPLAINT, actor=RECEPTION)
    for trigger, data in [("verify_identity", {}),
                          ("determine", {"category": "management_process", "cause": "hospital",
                                         "responsibility": "none"}),
                          ("give_feedback", {"feedback_text": "已优化分诊"}), ("close", {})]:
        clock.advance(timedelta(hours=2))
        engine.fire(case.id, trigger, data, actor=DIRECTOR)
    return case.id


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=TZ))


@pytest.fixture
def engine(clock: SimulatedClock) -> Engine:
    return Engine(processes=[ROOT / "processes"], clock=clock)


def test_archived_complaint_gets_a_new_linked_case(engine: Engine, clock: SimulatedClock) -> None:
    first = _closed(engine, clock)
    clock.advance(timedelta(days=1))
    engine.fire(first, "archive", actor=DIRECTOR)
    clock.advance(timedelta(days=60))
    with pytest.raises(TriggerRejected, match="not allowed in state 'archived'"):
        engine.fire(first, "reopen", {"new_evidence": "新的检查报告"}, actor=DIRECTOR)
    again = engine.start("medical_dispute", {**COMPLAINT, "new_evidence": "新的检查报告"},
                         actor=RECEPTION)
    assert again.duplicate_of == first
    assert again.data["follows_archived_complaint"] is True
    assert again.data["new_evidence"] == "新的检查报告"
    assert engine.case(first).state == "archived"  # the archived file is untouched
    fig = report(engine.store).as_dict()["by_process"]["medical_dispute"]
    assert (fig["first_time"], fig["duplicates"]) == (1, 1)


def test_closed_complaint_is_reopened_in_the_same_case(engine: Engine, clock: SimulatedClock) -> None:
    first = _closed(engine, clock)
    clock.advance(timedelta(days=3))
    case = engine.fire(first, "reopen", {"new_evidence": "新的检查报告"}, actor=DIRECTOR)
    assert (case.state, case.data["reopened_times"]) == ("investigating", 1)


def test_a_second_complaint_while_the_first_is_open_is_not_flagged(engine: Engine) -> None:
    first = engine.start("medical_dispute", COMPLAINT, actor=RECEPTION)
    second = engine.start("medical_dispute", COMPLAINT, actor=RECEPTION)
    assert second.duplicate_of == first.id
    assert second.data["follows_archived_complaint"] is False


def test_past_the_look_back_an_archived_complaint_is_not_linked(engine: Engine,
                                                                 clock: SimulatedClock) -> None:
    first = _closed(engine, clock)
    engine.fire(first, "archive", actor=DIRECTOR)
    clock.advance(timedelta(days=366))
    assert engine.start("medical_dispute", COMPLAINT, actor=RECEPTION).duplicate_of is None
