"""Deadline lifecycle invariants (issue 3, properties 4 and 6), driven through the engine
on the shipped procedures with generated extension attempts and clock steps.

"Exactly once" is per due instant: an extension that moves an overdue deadline's due
instant into the future lets it fall due again, once, at the new instant."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine import Actor, Engine, SimulatedClock, TriggerRejected

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

attempt = st.fixed_dictionaries({
    "days": st.one_of(st.none(), st.integers(min_value=1, max_value=40)),
    "reason": st.one_of(st.none(), st.just("情况复杂，需要补充调查")),
    "role": st.sampled_from(["deputy_leader", "principal", "clerk"]),
    "after_hours": st.integers(min_value=0, max_value=24 * 20),
})


@SETTINGS
@given(start_day=st.integers(min_value=0, max_value=300), attempts=st.lists(attempt, max_size=6))
def test_extensions_never_shorten_never_exceed_the_limit_and_refusals_change_nothing(
        start_day: int, attempts: list[dict[str, Any]]) -> None:
    start = datetime(2025, 1, 2, 9, tzinfo=TZ) + timedelta(days=start_day)
    clock = SimulatedClock(start)
    engine = Engine(processes=[ROOT / "processes"], clock=clock)
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"}, actor=CLERK)
    case = engine.fire(case.id, "accept", actor=CLERK)
    for a in attempts:
        clock.advance(timedelta(hours=a["after_hours"]))
        before = engine.case(case.id)
        data = {k: a[k] for k in ("days", "reason") if a[k] is not None}
        try:
            after = engine.fire(case.id, "extend", data, actor=Actor("领导", a["role"]))
        except TriggerRejected:
            after_refusal = engine.case(case.id)
            # timers may have run first only if they were due; the deadline itself is as before
            assert after_refusal.deadlines["handling"].due == before.deadlines["handling"].due
            assert after_refusal.deadlines["handling"].extended == before.deadlines["handling"].extended
            continue
        old, new = before.deadlines["handling"], after.deadlines["handling"]
        assert clock.now() < cast(datetime, old.due), "an ended period was extended"
        assert cast(datetime, new.due) >= cast(datetime, old.due)
        assert new.extended > old.extended
        assert new.extended <= 30
        # Counted from the day the period actually ended: moved by at least the grant.
        assert cast(date, new.due_date) >= (cast(date, old.due_date)
                                           + timedelta(days=new.extended - old.extended))
        case = after


step = st.one_of(
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=24 * 15)),
    st.tuples(st.just("fire"), st.sampled_from(["mediation_agreement", "request_appraisal",
                                                "appraisal_done", "extend_mediation"])),
)
MEDIATOR = Actor("调解员", "mediator")
FIRE_DATA: dict[str, dict[str, Any]] = {
    "mediation_agreement": {"amount": 1000}, "appraisal_done": {"appraisal_result": "三级"},
    "extend_mediation": {"agreed_days": 5, "both_parties_agree": True},
    "request_appraisal": {}}


def _into_mediation(engine: Engine) -> str:
    reception, director = Actor("王芳", "reception"), Actor("李明", "office_director")
    case = engine.start("medical_dispute", {"complainant": "张某", "relation": "patient",
                                            "patient": "张某", "department_kind": "inpatient",
                                            "claim_amount": 50000}, actor=reception)
    engine.fire(case.id, "verify_identity", actor=reception)
    engine.fire(case.id, "determine", {"category": "medical_quality", "cause": "hospital",
                                       "responsibility": "hospital"}, actor=director)
    engine.fire(case.id, "give_feedback", actor=director)
    return engine.fire(case.id, "route_claim", actor=director).id


@SETTINGS
@given(start_day=st.integers(min_value=0, max_value=600), steps=st.lists(step, max_size=25))
def test_a_timeout_fires_exactly_once_never_early_never_after_the_deadline_was_met(
        start_day: int, steps: list[tuple[str, Any]]) -> None:
    clock = SimulatedClock(datetime(2025, 1, 1, 10, tzinfo=TZ) + timedelta(days=start_day))
    engine = Engine(processes=[ROOT / "processes"], clock=clock)
    case_id = _into_mediation(engine)
    for kind, arg in steps:
        if kind == "advance":
            clock.advance(timedelta(hours=int(arg)))  # type: ignore[arg-type]
            engine.tick()
        else:
            try:
                engine.fire(case_id, str(arg), FIRE_DATA[str(arg)], actor=MEDIATOR)
            except TriggerRejected:
                pass
    engine.tick(clock.now() + timedelta(days=400))  # let everything that can run out, run out
    _check_history(engine, case_id)


def _check_history(engine: Engine, case_id: str) -> None:
    fired: dict[tuple[str, int, datetime | None], int] = {}
    rounds: dict[str, int] = {}
    due: dict[str, datetime | None] = {}
    finished: set[str] = set()
    for e in engine.history(case_id):
        for x in e.effects:
            name, op = x["deadline"], x["op"]
            if op == "started":
                rounds[name] = rounds.get(name, 0) + 1
                finished.discard(name)
            if "due" in x:
                due[name] = datetime.fromisoformat(x["due"]) if x["due"] else None
            key = (name, rounds[name], due.get(name))
            if op in ("met", "cancelled"):
                finished.add(name)
            if op in ("expired", "overdue"):
                assert name not in finished, f"{op} after the deadline was met/cancelled"
                assert due[name] is not None and e.at >= cast(datetime, due[name]), \
                    "fired before the due instant"
                fired[key] = fired.get(key, 0) + 1
                finished.add(name)
    assert all(n == 1 for n in fired.values()), fired
    # every round that ran out without being met did fire once
    case = engine.case(case_id)
    for d in case.deadlines.values():
        if d.status == "expired":
            assert sum(n for (name, r, _), n in fired.items() if (name, r) == (d.name, d.round)) >= 1
