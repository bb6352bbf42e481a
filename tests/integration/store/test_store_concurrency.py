"""Several workers and several firing processes on one PostgreSQL database at once.

4 processes run `tick` and 4 fire triggers (pause for appraisal, resume, extend, return to
mediation) on the same medical_dispute cases, in lockstep over 40 instants spanning the
mediation periods, each process with its own `Engine` (multiprocessing "spawn"). Afterwards:
every case's sequence is gap-free and its chain verifies; the projection is its last event;
no deadline round has two `expired` (or `overdue`, `warned`) effects, i.e. no timer fired
twice; and a final tick at the last instant finds nothing left due, i.e. none was skipped.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from concurrency_workers import run, timeline

from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.records.case import Actor
from flowengine.records.events import GENESIS, Event, chain_hash
from tests.support.store import CST

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
START = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
WORKERS = FIRERS = 4
CASES = 12
STEPS = 50


def start_cases(engine: Engine) -> list[str]:
    reception, director = Actor("王芳", "reception"), Actor("李明", "office_director")
    ids = []
    for i in range(CASES):
        case = engine.start("medical_dispute", actor=reception, data={
            "complainant": f"投诉人{i}", "relation": "patient", "patient": f"患者{i}",
            "department_kind": "inpatient", "claim_amount": "35000"})
        engine.fire(case.id, "verify_identity", actor=reception)
        engine.fire(case.id, "determine", actor=director, data={
            "category": "medical_quality", "cause": "hospital", "responsibility": "hospital"})
        engine.fire(case.id, "give_feedback", actor=director)
        engine.fire(case.id, "route_claim", actor=director)
        engine.fire(case.id, "apply_mediation", actor=director,
                    data={"mediation_committee": "区医调委"})
        engine.fire(case.id, "accept_mediation", actor=Actor("周某", "mediator"))
        ids.append(case.id)
    return ids


@pytest.mark.postgres
def test_workers_and_firers_never_double_fire(pg_url: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD", "1")
    engine = Engine(db=pg_url, processes=[PROCESSES], clock=SimulatedClock(START))
    case_ids = start_cases(engine)
    instants = timeline(START, STEPS, timedelta(days=2))
    counts = run_processes(pg_url, case_ids, instants)
    assert counts["timer events"] > 0 and counts["fired"] > 0, counts  # both sides worked
    assert counts["conflicts"] > 0, counts  # and they did race for the same cases

    for case_id in case_ids:
        history = engine.history(case_id)
        check_chain(case_id, history)
        check_timers_fired_once(case_id, history)
        case = engine.case(case_id)
        assert (case.seq, case.last_hash) == (history[-1].seq, history[-1].hash)
    expired = sum(1 for c in case_ids for e in engine.history(c) for f in e.effects
                  if f["op"] == "expired")
    assert expired > 0, (expired, counts)
    assert engine.tick(instants[-1]) == [], "a due timer was left unfired"
    engine.store.close()  # type: ignore[attr-defined]


def run_processes(url: str, case_ids: list[str], instants: list[datetime]) -> Counter[str]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS + FIRERS), ctx.Queue()
    roles = ["tick"] * WORKERS + ["fire"] * FIRERS
    procs = [ctx.Process(target=run, args=(role, seed, url, str(PROCESSES), case_ids,
                                           instants, barrier, results))
             for seed, role in enumerate(roles)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    failures = [f"{role}: {error}" for role, _, error in outcomes if error]
    assert not failures, "\n".join(failures)
    total: Counter[str] = Counter()
    for _, counts, _ in outcomes:
        total.update(counts)
    return total


def check_chain(case_id: str, history: list[Event]) -> None:
    assert [e.seq for e in history] == list(range(1, len(history) + 1)), case_id
    prev = GENESIS
    for e in history:
        assert e.prev_hash == prev and e.hash == chain_hash(e.body()), (case_id, e.seq)
        prev = e.hash


def check_timers_fired_once(case_id: str, history: list[Event]) -> None:
    rounds: Counter[str] = Counter()
    seen: Counter[tuple[str, int, str]] = Counter()
    for e in history:
        for effect in e.effects:
            name = effect["deadline"]
            if effect["op"] == "started":
                rounds[name] += 1
            elif effect["op"] in ("expired", "overdue", "warned"):
                seen[(name, rounds[name], effect["op"])] += 1
    twice = {k: n for k, n in seen.items() if n > 1}
    assert not twice, f"case {case_id}: timers fired more than once: {twice}"
