"""The deadline lifecycle's vocabulary and the three functions that speak it:
`step_effects` (what a start or fire does to deadlines), `extension_effects` (an extension
trigger) and `notifications_for` (the notices a step's effects ask for), each called
directly on a compiled definition, and the one table tying effects to notices and hooks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast, get_args

import pytest

from flowengine import Engine, SimulatedClock
from flowengine.engine import deadlines, notify, planner
from flowengine.engine.compiler import CompiledProcess
from flowengine.engine.deadlines import Step, extension_effects, step_effects
from flowengine.engine.fold import _EFFECTS
from flowengine.engine.notify import DEFAULT_MESSAGES, format_date, notifications_for
from flowengine.engine.planner import case_env
from flowengine.plugins import hookspecs
from flowengine.records.lifecycle import LIFECYCLE, ExtendedEffect, Op, StartedEffect
from tests.support.engine import CLERK, ROOT, at

COUNTY = ROOT / "examples" / "county_three_step.yaml"


def test_one_table_names_every_effect_its_fold_notice_and_hook() -> None:
    assert set(get_args(Op)) == set(LIFECYCLE) == set(_EFFECTS)
    for op, row in LIFECYCLE.items():
        if row.hook is not None:
            assert callable(getattr(hookspecs, row.hook)), op
        if row.notification not in (None, "started"):  # `started`: only when declared
            assert row.notification in DEFAULT_MESSAGES, op


def _county(tmp_path: Path) -> Engine:
    """The county example with a `withdrawn` final state reachable while the answer runs."""
    text = COUNTY.read_text(encoding="utf-8")
    text = text.replace("  answered: {final: true", "  withdrawn: {final: true}\n"
                        "  answered: {final: true").replace(
        "transitions:\n", "transitions:\n  - {trigger: withdraw, source: received, "
        "dest: withdrawn, roles: [clerk]}\n")
    path = tmp_path / "county_three_step.yaml"
    path.write_text(text, encoding="utf-8")
    return Engine(processes=[path], clock=SimulatedClock(at("2026-08-03T09:00")))


def _started(engine: Engine) -> tuple[CompiledProcess, Any]:
    case = engine.start("county_three_step", {"complainant": "李四", "subject": "路灯"},
                        actor=CLERK, at=at("2026-08-03T09:00"))  # a Monday
    return engine.registry.latest("county_three_step"), case


def test_a_start_starts_the_deadline_counted_in_working_days(tmp_path: Path) -> None:
    engine = _county(tmp_path)
    cp, case = _started(engine)
    empty = type(case)(id="x", process_id=cp.process.id, digest=cp.process.digest,
                       state="received", data={})
    env = case_env(cp, "received", case.data, CLERK, at("2026-08-03T09:00"))
    (effect,) = step_effects(cp, empty, Step(at=at("2026-08-03T09:00"), started=True,
                                             dest="received"), env)
    effect = cast(StartedEffect, effect)
    assert (effect["op"], effect["deadline"], effect["unit"], effect["amount"]) == (
        "started", "answer", "working_days", 7)
    assert effect["due_date"] == date(2026, 8, 12)  # 7 working days after Monday 08-03
    assert effect["warn_at"] is not None and effect["warn_at"] < effect["due"]


@pytest.mark.parametrize(("trigger", "dest", "when", "op", "late"), [
    ("withdraw", "withdrawn", "2026-08-04T09:00", "cancelled", False),
    ("withdraw", "withdrawn", "2026-08-20T09:00", "cancelled", True),
    ("investigate", "investigating", "2026-08-04T09:00", None, False),
])
def test_a_fire_stops_or_keeps_the_running_deadline(tmp_path: Path, trigger: str, dest: str,
                                                    when: str, op: str | None, late: bool) -> None:
    cp, case = _started(_county(tmp_path))
    env = case_env(cp, dest, case.data, CLERK, at(when))
    effects = step_effects(cp, case, Step(at=at(when), trigger=trigger, source=case.state,
                                          dest=dest), env)
    if op is None:
        assert effects == []
    else:
        assert effects == [{"deadline": "answer", "op": op, "late": late}]


def _accepted(engine: Engine) -> Any:
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"},
                        actor=CLERK, at=at("2026-08-03T09:00"))
    return engine.fire(case.id, "accept", actor=CLERK, at=at("2026-08-03T10:00"))


def test_an_extension_recounts_from_the_due_date_or_says_why_not() -> None:
    engine = Engine(processes=[ROOT / "processes"], clock=SimulatedClock(at("2026-08-03T09:00")))
    case = _accepted(engine)
    cp = engine.registry.latest("standard_case")
    handling = case.deadlines["handling"]
    effects, reasons = extension_effects(cp, case, "extend", {"days": 10, "reason": "需要调查"},
                                         at("2026-09-01T09:00"))
    assert reasons == []
    (effect,) = effects
    effect = cast(ExtendedEffect, effect)
    assert (effect["op"], effect["days"], effect["from_due"]) == ("extended", 10, handling.due_date)
    assert effect["due_date"] > handling.due_date and effect["status"] == "open"
    effects, reasons = extension_effects(cp, case, "extend", {"days": 10}, at("2026-09-01T09:00"))
    assert effects == [] and any("reason" in r.message for r in reasons)
    effects, reasons = extension_effects(cp, case, "extend", {"days": 31, "reason": "x"},
                                         at("2026-09-01T09:00"))
    assert effects == [] and any("exceed" in r.message for r in reasons)


def test_notifications_answer_each_effect_declared_or_built_in(tmp_path: Path) -> None:
    cp, case = _started(_county(tmp_path))
    now = at("2026-08-10T09:00")
    step = Step(now, CLERK)  # a timer's step: no trigger, no state entered
    (warning,) = notifications_for(cp, case, step, [{"deadline": "answer", "op": "warned"}])
    assert (warning["kind"], warning["name"], warning["to"]) == ("warning", None, ["owner"])
    assert case.id in warning["messages"]["en"] and warning["deadline"] == "answer"
    (overdue,) = notifications_for(cp, case, step, [{"deadline": "answer", "op": "overdue"}])
    assert (overdue["kind"], overdue["name"], overdue["to"]) == (
        "overdue", "overdue_notice", ["supervisor"])  # the declaration replaces the default
    assert notifications_for(cp, case, step,
                             [{"deadline": "answer", "op": "met", "late": False}]) == []


def test_each_version_answers_with_its_own_declarations(tmp_path: Path) -> None:
    """Which declarations answer a step is worked out once per definition version (shared
    by every case the version runs): a version without the declaration gets the built-in
    notice, never the answer worked out for another version, and a step of another kind
    its own answer."""
    cp, case = _started(_county(tmp_path))
    step, overdue = Step(at("2026-08-10T09:00"), CLERK), [{"deadline": "answer", "op": "overdue"}]
    assert notifications_for(cp, case, step, overdue)[0]["name"] == "overdue_notice"
    plain = CompiledProcess(replace(cp.process, notifications={}), cp.calendar)
    (built_in,) = notifications_for(plain, case, step, overdue)
    assert (built_in["name"], built_in["to"]) == (None, ["supervisor", "owner"])
    assert notifications_for(cp, case, step, overdue)[0]["name"] == "overdue_notice"
    warned = [{"deadline": "answer", "op": "warned"}]
    assert notifications_for(cp, case, step, warned)[0]["kind"] == "warning"


def test_a_notice_computes_only_the_values_its_messages_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deadline notice's values are worked out when a message names them: the built-in
    `paused` text names neither the due date nor a reason sentence, so neither is worded
    (a tick words thousands of notices); the record still carries the due date."""
    cp, case = _started(_county(tmp_path))
    plain = CompiledProcess(replace(cp.process, notifications={}), cp.calendar)
    worded: list[str] = []
    due_value, reason_value = notify.due_value, notify.reason_value

    def due(*args: Any) -> Any:
        worded.append("due")
        return due_value(*args)

    def reason(*args: Any) -> Any:
        worded.append("reason")
        return reason_value(*args)

    monkeypatch.setattr(notify, "due_value", due)
    monkeypatch.setattr(notify, "reason_value", reason)
    step = Step(at("2026-08-10T09:00"), CLERK)
    (paused,) = notifications_for(plain, case, step, [{"deadline": "answer", "op": "paused"}])
    assert worded == []
    assert paused["due"] == case.deadlines["answer"].due_date.isoformat()
    assert paused["messages"]["en"] == f"Case {case.id}: the 7个工作日内答复 clock is paused."
    (overdue,) = notifications_for(plain, case, step, [{"deadline": "answer", "op": "overdue"}])
    assert worded == ["due"]  # once for both languages
    assert format_date(case.deadlines["answer"].due_date, "zh") in overdue["messages"]["zh"]


def test_what_a_kind_of_step_does_to_the_deadlines_is_worked_out_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a step starts, stops or supersedes each deadline depends on the kind of
    step (its trigger, the states entered and left), not on the case: the second case
    fired the same way asks no anchor again, and its effects are its own."""
    engine = _county(tmp_path)
    _, first = _started(engine)
    _, second = _started(engine)
    asked: list[str] = []
    matches = deadlines._matches

    def spied(anchor: Any, step: Step) -> bool:
        asked.append(step.trigger or "")
        return matches(anchor, step)

    monkeypatch.setattr(deadlines, "_matches", spied)
    one = engine.fire(first.id, "withdraw", actor=CLERK, at=at("2026-08-04T09:00"))
    assert "withdraw" in asked
    asked.clear()
    two = engine.fire(second.id, "withdraw", actor=CLERK, at=at("2026-08-20T09:00"))
    assert asked == []
    assert [(e["op"], e["late"]) for e in engine.history(one.id)[-1].effects] == [
        ("cancelled", False)]
    assert [(e["op"], e["late"]) for e in engine.history(two.id)[-1].effects] == [
        ("cancelled", True)]


def test_a_due_date_is_worded_once_per_definition_version_and_date(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases a tick runs out mostly share a few due dates: the second case's notice
    takes the wording of the first's, letter for letter, instead of wording it again; a
    case due on another day gets its own."""
    cp, case = _started(_county(tmp_path))
    plain = CompiledProcess(replace(cp.process, notifications={}), cp.calendar)
    worded: list[date] = []
    due_value = notify.due_value

    def due(day: date, *args: Any) -> Any:
        worded.append(day)
        return due_value(day, *args)

    monkeypatch.setattr(notify, "due_value", due)
    step = Step(at("2026-08-13T00:00"))
    overdue = [{"deadline": "answer", "op": "overdue"}]
    other = case.copy()
    other.id = "other"
    first = notifications_for(plain, case, step, overdue)
    second = notifications_for(plain, other, step, overdue)
    day = case.deadlines["answer"].due_date
    assert worded == [day]
    assert second[0]["messages"] == {
        lang: text.replace(case.id, "other") for lang, text in first[0]["messages"].items()}
    assert format_date(day, "zh") in second[0]["messages"]["zh"]
    later = other.copy()
    later.deadlines["answer"].due_date = day + timedelta(days=1)
    (third,) = notifications_for(plain, later, step, overdue)
    assert worded == [day, day + timedelta(days=1)]
    assert (day + timedelta(days=1)).isoformat() in third["messages"]["en"]


def test_a_fire_that_starts_no_deadline_builds_no_expression_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a deadline's start reads the expression environment (its `unless`, its due
    field); a fire whose step starts none, with no guard, builds none (the automatic fire
    after each expiry of a tick)."""
    engine = _county(tmp_path)
    _, case = _started(engine)
    built_envs: list[str] = []

    def spied(cp: CompiledProcess, state: str, *args: Any) -> Any:
        built_envs.append(state)
        return case_env(cp, state, *args)

    monkeypatch.setattr(planner, "case_env", spied)
    after = engine.fire(case.id, "withdraw", actor=CLERK, at=at("2026-08-04T09:00"))
    assert built_envs == []
    assert after.state == "withdrawn" and after.deadlines["answer"].status == "cancelled"
    (event,) = engine.history(case.id)[-1:]
    assert [e["op"] for e in event.effects] == ["cancelled"]
