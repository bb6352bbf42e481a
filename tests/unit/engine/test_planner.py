"""The planner as objects: one `Planner` per compiled definition version, and per decision
a `Moment` that places its `Draft` in the case's chain."""

from __future__ import annotations

from flowengine import Engine, SimulatedClock
from flowengine.engine.planner import Moment, Planner
from flowengine.records.case import Case
from flowengine.records.events import GENESIS
from tests.support.engine import CLERK, ROOT, at


def _engine() -> Engine:
    return Engine(processes=[ROOT / "bench" / "refproc.yaml"],
                  clock=SimulatedClock(at("2026-03-02T09:00")))


def test_one_planner_per_compiled_version() -> None:
    engine = _engine()
    cp = engine.registry.latest("refproc")
    planner = Planner.of(cp)
    assert Planner.of(cp) is planner and planner.cp is cp
    case = engine.start("refproc", {"in_jurisdiction": True}, actor=CLERK)
    assert engine.compiled(case).planner is planner  # the engine decided with that one


def test_a_draft_takes_its_place_in_the_chain_from_its_moment() -> None:
    engine = _engine()
    case = engine.start("refproc", {"in_jurisdiction": True}, actor=CLERK)
    planner = Planner.of(engine.compiled(case))
    now = at("2026-03-03T10:00")
    draft = Moment(planner, case, CLERK, now).draft("fired", trigger="triage",
                                                    source="registered", dest="triaged",
                                                    data={})
    assert (draft.case_id, draft.seq, draft.prev_hash) == (case.id, 2, case.last_hash)
    assert (draft.at, draft.actor, draft.type) == (now, CLERK, "fired")
    assert (draft.process_id, draft.digest) == (case.process_id, case.digest)
    empty = type(case)(id="C9", process_id="refproc", digest=case.digest, state="registered",
                       data={})
    first = Moment(planner, empty, CLERK, now).draft("started", dest="registered", data={})
    assert (first.seq, first.prev_hash) == (1, GENESIS)


def test_a_fire_planned_by_the_planner_equals_the_engines() -> None:
    engine = _engine()
    case = engine.start("refproc", {"in_jurisdiction": False}, actor=CLERK)
    case = engine.fire(case.id, "triage", actor=CLERK)
    when = at("2026-03-02T09:00")
    event, after = Planner.of(engine.compiled(case)).fire(case, "decide", {}, CLERK, when)
    assert after.state == "redirected" and case.state == "triaged"  # not folded into `case`
    fired = engine.fire(case.id, "decide", actor=CLERK, at=when)
    assert engine.history(case.id)[-1] == event and fired == after


def test_a_started_case_has_every_field_the_dataclass_gives() -> None:
    engine = _engine()
    planner = Planner.of(engine.registry.latest("refproc"))
    _, case = planner.start("C1", {"in_jurisdiction": True}, CLERK, at("2026-03-02T09:00"))
    made = Case(id="C1", process_id="refproc", digest=case.digest, state="registered", data={})
    assert list(vars(case)) == list(vars(made))  # the empty case is built without __init__
    assert case.deadlines == {} and type(case.deadlines) is dict and case.seq == 1
