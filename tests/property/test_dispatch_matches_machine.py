"""The planner's dispatch reads the compiled Machine's table instead of calling
`Event.trigger` (compiler.py says why). Property: for any state, trigger, case data, given
data and role, on every shipped procedure, the example, and a definition whose guards and
decision rows overlap (so only the order decides), both paths choose the same
transition and the same dest, or both refuse for the same reasons.

The Machine path is `transitions` itself: `machine.events[trigger].trigger(Cursor(state),
plan=plan)` with our conditions attached to its transitions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transitions.core import MachineError

from flowengine import Actor, InvalidData, TriggerRejected
from flowengine.definition.model import FieldDef
from flowengine.engine.compiler import CompiledProcess, Cursor
from flowengine.engine.data import coerce_all
from flowengine.engine.planner import FirePlan, Planner
from flowengine.engine.registry import Registry
from flowengine.records.case import Case

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

_REGISTRY = Registry()
_REGISTRY.add_path(ROOT / "processes")
_REGISTRY.add_path(ROOT / "examples" / "county_three_step.yaml")
_REGISTRY.add_path(ROOT / "tests" / "fixtures" / "dispatch" / "overlapping.yaml")  # order matters
COMPILED = [_REGISTRY.latest(pid) for pid in
            ("standard_case", "five_step", "medical_dispute", "county_three_step", "overlapping")]


def _value(f: FieldDef) -> st.SearchStrategy[Any]:
    if f.type == "enum":
        return st.sampled_from(list(f.values))
    if f.type == "boolean":
        return st.booleans()
    lo = f.minimum if f.minimum is not None else Decimal(0)
    hi = f.maximum if f.maximum is not None else Decimal(300_000)
    if f.type == "integer":
        return st.integers(int(lo), min(int(hi), 90))
    if f.type == "money":
        amounts = [Decimal(a) for a in ("0", "0.01", "30000", "30000.01", "199999.99", "200000")]
        return st.sampled_from([a for a in amounts if lo <= a <= hi] or [lo])
    if f.type == "date":
        return st.integers(-40, 40).map(lambda n: (AT.date() + timedelta(days=n)).isoformat())
    if f.type == "datetime":
        return st.just(AT.isoformat())
    if f.type == "list":
        return st.lists(st.sampled_from(["甲", "乙"]), min_size=1, max_size=2)
    return st.sampled_from(["张三", "x", "情况复杂"])


def _outcome_direct(plan: FirePlan) -> tuple[Any, ...]:
    try:
        plan.dispatch()
    except TriggerRejected as exc:
        if exc.reasons and exc.reasons[0].check == "state":
            return ("not dispatched",)
        return ("refused", [(r.check, r.message) for r in exc.reasons])
    assert plan.chosen is not None
    return ("chosen", id(plan.chosen), plan.dest)


def _outcome_machine(cp: CompiledProcess, plan: FirePlan) -> tuple[Any, ...]:
    event = cp.machine.events.get(plan.trigger)
    if event is None:
        return ("not dispatched",)
    try:
        ok = event.trigger(Cursor(plan.case.state), plan=plan)
    except MachineError:
        return ("not dispatched",)
    if not ok:
        return ("refused", [(r.check, r.message) for r in plan.reasons + plan.route_failures()])
    assert plan.chosen is not None
    return ("chosen", id(plan.chosen), plan.dest)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_direct_dispatch_chooses_what_the_machine_chooses(data: st.DataObject) -> None:
    cp = COMPILED[data.draw(st.integers(0, len(COMPILED) - 1))]
    p = cp.process
    state = data.draw(st.sampled_from(sorted(p.states)))
    trigger = data.draw(st.sampled_from(sorted(p.triggers) + ["no_such_trigger"]))
    fields = sorted(p.fields)
    stored = data.draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []
    given_names = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=3)) if fields else []
    case_data = coerce_all(p.fields, {n: data.draw(_value(p.fields[n])) for n in stored})
    given_data = {n: data.draw(_value(p.fields[n])) for n in given_names}
    role = data.draw(st.sampled_from(sorted(p.roles) + [None]))
    auto = data.draw(st.booleans())
    case = Case(id="C1", process_id=p.id, digest=p.digest, state=state, data=case_data, seq=3)

    def plan() -> FirePlan:
        return Planner.of(cp).plan(case, trigger, given_data, Actor("甲", role), AT, auto=auto)

    try:
        direct_plan = plan()
    except InvalidData:
        return  # a given value the field refuses: refused before any dispatch
    assert _outcome_direct(direct_plan) == _outcome_machine(cp, plan())


def test_the_table_lists_every_transition_of_the_machine_in_its_order() -> None:
    for cp in COMPILED:
        for trigger, event in cp.machine.events.items():
            for source, transitions in event.transitions.items():
                if not transitions:
                    continue
                listed = cp.candidates[trigger][source]
                assert [c.dest for c in listed] == [t.dest for t in transitions]
                assert all(c.transition.trigger == trigger and source in c.transition.sources
                           for c in listed)
