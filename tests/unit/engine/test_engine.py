"""The engine's documented behaviour: refusals that change nothing and say why, time
order, pinned definition versions, duplicates, self-triggers, final states."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from flowengine import (
    Actor,
    CaseNotFound,
    ClockError,
    Engine,
    InvalidData,
    ProcessNotFound,
    SimulatedClock,
    TriggerRejected,
)
from tests.support.engine import CLERK, ROOT, at

PETITION = {"petitioner": "张三", "subject": "小区噪音扰民"}


def test_start_records_owner_initial_state_and_acceptance_deadline(engine: Engine) -> None:
    case = engine.start("standard_case", PETITION, actor=CLERK)
    assert case.state == "registered"
    assert case.owner == CLERK
    notice = case.deadlines["acceptance_notice"]
    assert (notice.status, cast(date, notice.due_date).isoformat()) == ("open", "2026-08-18")
    assert case.data["importance"] == "ordinary"  # defaults are applied at start


def test_a_rejected_trigger_changes_nothing_and_names_every_failed_check(engine: Engine) -> None:
    case = engine.fire(engine.start("standard_case", PETITION, actor=CLERK).id, "accept", actor=CLERK)
    case = engine.fire(case.id, "investigate", actor=CLERK)
    before = engine.case(case.id)
    history = engine.history(case.id)
    with pytest.raises(TriggerRejected) as err:
        engine.fire(case.id, "draft_reply", {"findings": "属实"}, actor=Actor("赵", "principal"))
    checks = {r.check for r in err.value.reasons}
    assert checks == {"role", "required"}
    assert "proposed_result" in str(err.value) and "clerk or office_director" in str(err.value)
    assert engine.case(case.id) == before
    assert engine.history(case.id) == history


def test_guard_refusal_carries_the_yaml_message(engine: Engine) -> None:
    case = engine.start("standard_case", {**PETITION, "source": "assigned", "assigning_authority": "市信访局",
                                          "assigning_ref": "市信交〔2026〕12号",
                                          "assigned_due": "2026-09-30"}, actor=CLERK)
    with pytest.raises(TriggerRejected, match="only a directly received matter"):
        engine.fire(case.id, "answer_on_spot", {"result": "explained"}, actor=CLERK)


def test_trigger_not_allowed_lists_what_is_allowed(engine: Engine) -> None:
    case = engine.start("standard_case", PETITION, actor=CLERK)
    with pytest.raises(TriggerRejected, match="allowed here: accept, answer_on_spot, decline, redirect"):
        engine.fire(case.id, "archive", actor=CLERK)
    with pytest.raises(TriggerRejected, match="did you mean 'accept'"):
        engine.fire(case.id, "acept", actor=CLERK)


def test_start_requirements_depend_on_the_data(engine: Engine) -> None:
    with pytest.raises(TriggerRejected, match="assigning_authority, assigning_ref, assigned_due"):
        engine.start("standard_case", {**PETITION, "source": "assigned"}, actor=CLERK)
    with pytest.raises(TriggerRejected, match="petitioner"):
        engine.start("standard_case", {"subject": "x"}, actor=CLERK)
    with pytest.raises(TriggerRejected, match="role clerk"):
        engine.start("standard_case", PETITION, actor=Actor("路人", "visitor"))
    assert engine.cases() == []  # no half-started case


@pytest.mark.parametrize("data, message", [
    ({"claim_amount": "3万"}, "claim_amount must be an amount"),
    ({"claim_amount": -1}, "at least 0"),
    ({"claim_amount": "0.001"}, "more than 2 decimal places"),
    ({"relation": "cousin"}, "relation cannot be 'cousin'"),
    ({"clam_amount": 5}, "did you mean 'claim_amount'"),
])
def test_bad_data_is_refused_with_the_field_named(engine: Engine, data: dict[str, Any],
                                                  message: str) -> None:
    base = {"complainant": "张某", "relation": "patient", "patient": "张某", "department_kind": "outpatient"}
    with pytest.raises(InvalidData, match=message):
        engine.start("medical_dispute", {**base, **data}, actor=Actor("王芳", "reception"))


def test_money_is_exact_decimal(engine: Engine) -> None:
    case = engine.start("medical_dispute", {"complainant": "张某", "relation": "patient", "patient": "张某",
                                            "department_kind": "outpatient", "claim_amount": 30000.01},
                        actor=Actor("王芳", "reception"))
    assert str(case.data["claim_amount"]) == "30000.01"


def test_events_are_recorded_in_time_order_only(engine: Engine, clock: SimulatedClock) -> None:
    case = engine.start("standard_case", PETITION, actor=CLERK)
    with pytest.raises(ClockError, match="earlier than its last event"):
        engine.fire(case.id, "accept", actor=CLERK, at=at("2026-08-02T09:00:00"))
    with pytest.raises(ClockError, match="no time zone"):
        engine.fire(case.id, "accept", actor=CLERK, at=at("2026-08-04T09:00:00").replace(tzinfo=None))
    engine.fire(case.id, "accept", actor=CLERK, at=at("2026-08-04T10:00:00"))
    assert [e.at for e in engine.history(case.id)] == sorted(e.at for e in engine.history(case.id))


def test_a_fire_first_runs_the_timers_that_fell_due_before_it(engine: Engine, clock: SimulatedClock) -> None:
    case = engine.start("standard_case", PETITION, actor=CLERK)
    late = at("2026-08-25T09:00:00")  # the 15-day acceptance notice ran out on 08-18 at 24:00
    case = engine.fire(case.id, "accept", actor=CLERK, at=late)
    kinds = [(e.type, e.at) for e in engine.history(case.id)]
    assert kinds[1] == ("timer", at("2026-08-19T00:00:00"))
    notice = case.deadlines["acceptance_notice"]
    assert (notice.status, notice.late) == ("met", True)


def test_tick_is_idempotent(engine: Engine) -> None:
    case = engine.start("standard_case", PETITION, actor=CLERK)
    now = at("2026-09-01T00:00:00")
    first = engine.tick(now)
    assert [e.effects[0]["op"] for e in first] == ["overdue"]
    assert engine.tick(now) == []
    assert engine.case(case.id).overdue


def test_self_trigger_stays_and_does_not_restart_deadlines(engine: Engine) -> None:
    case = engine.fire(engine.start("five_step", {"receiving_leader": "李市长", "matter_type": "group",
                                                  "responsible_unit": "城东区", "subject": "拆迁安置"},
                                    actor=Actor("刘", "bureau")).id,
                       "update_lists", {"supervising_unit": "市督查室"}, actor=Actor("刘", "bureau"))
    assert case.state == "received"
    assert {d.round for d in case.deadlines.values()} == {1}
    assert case.data["supervising_unit"] == "市督查室"


def test_reaching_a_final_state_cancels_running_deadlines(engine: Engine) -> None:
    case = engine.start("five_step", {"receiving_leader": "李市长", "matter_type": "individual",
                                      "responsible_unit": "城东区", "subject": "工资拖欠"},
                        actor=Actor("刘", "bureau"))
    owner = Actor("陈", "owner_leader")
    case = engine.fire(case.id, "assign_owner", {"owner_leader": "陈", "resolution_team": ["甲", "乙"]},
                       actor=Actor("刘", "bureau"))
    case = engine.fire(case.id, "send_feedback", actor=owner)
    case = engine.fire(case.id, "submit_opinion", {"opinion": "协调补发"}, actor=owner)
    case = engine.fire(case.id, "resolve", {"result": "已补发"}, actor=owner)
    case = engine.fire(case.id, "archive", actor=Actor("刘", "bureau"))
    assert case.state == "archived"
    assert all(not d.active for d in case.deadlines.values())


def test_duplicate_petition_is_flagged_and_linked_never_silent(engine: Engine) -> None:
    first = engine.start("standard_case", PETITION, actor=CLERK)
    second = engine.start("standard_case", PETITION, actor=CLERK)
    other = engine.start("standard_case", {**PETITION, "subject": "另一件事"}, actor=CLERK)
    assert second.duplicate_of == first.id
    assert other.duplicate_of is None
    engine.fire(first.id, "redirect", {"redirect_to": "区住建局"}, actor=CLERK)  # first is final now
    third = engine.start("standard_case", PETITION, actor=CLERK)
    assert third.duplicate_of == second.id


def test_cases_stay_pinned_to_their_definition_version(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", folder)
    clock = SimulatedClock(at("2026-08-03T09:00:00"))
    engine = Engine(processes=[folder], clock=clock)
    old = engine.fire(engine.start("standard_case", PETITION, actor=CLERK).id, "accept", actor=CLERK)
    path = folder / "standard_case.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("length: 60 days", "length: 30 days"),
                    encoding="utf-8")
    engine.load(folder)
    new = engine.fire(engine.start("standard_case", {**PETITION, "subject": "新"}, actor=CLERK).id,
                      "accept", actor=CLERK)
    assert new.digest != old.digest
    assert cast(date, new.deadlines["handling"].due_date).isoformat() == "2026-09-02"
    assert cast(date, old.deadlines["handling"].due_date).isoformat() == "2026-10-08"
    clock.advance(timedelta(days=1))
    old = engine.fire(old.id, "investigate", actor=CLERK)  # the old case runs on its own version
    assert old.digest == engine.history(old.id)[0].digest


def test_unknown_case_and_process(engine: Engine) -> None:
    with pytest.raises(CaseNotFound):
        engine.fire("C999999", "accept", actor=CLERK)
    with pytest.raises(ProcessNotFound, match="did you mean 'five_step'"):
        engine.start("five_stp", {}, actor=CLERK)
