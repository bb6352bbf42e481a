"""Processes of the PostgreSQL concurrency test (started with multiprocessing "spawn", each
opening its own `Engine` on the same database).

All processes walk the same timeline of instants in lockstep (a barrier per step), so at each
step the tick workers and the firing processes hit the same cases at the same instant:
workers run `tick(now)`, firers pause, resume and extend mediation or bring a case back to
mediation after court advice. Lost races (`ConcurrentUpdate`) and triggers the state no
longer allows are expected and counted; anything else is a failure sent back to the test.
"""

from __future__ import annotations

import random
import traceback
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.errors import ClockError, ConcurrentUpdate, TriggerRejected
from flowengine.records.case import Actor

MEDIATOR = Actor("调解员", "mediator")
BY_STATE: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "mediation": [("request_appraisal", {}),
                  ("extend_mediation", {"agreed_days": 3, "both_parties_agree": True})],
    "appraisal": [("appraisal_done", {"appraisal_result": "无过错"})],
    "court_advised": [("agree_to_mediation", {"both_parties_agree": True})],
}


def timeline(start: datetime, steps: int, step: timedelta) -> list[datetime]:
    return [start + i * step for i in range(1, steps + 1)]


def run(role: str, seed: int, url: str, processes: str, case_ids: list[str],
        instants: list[datetime], barrier: Any, results: Any) -> None:
    counts: Counter[str] = Counter()
    try:
        engine = Engine(db=url, processes=[processes], clock=SimulatedClock(instants[0]))
        rng = random.Random(seed)
        barrier.wait(timeout=120)
        for now in instants:
            if role == "tick":
                counts["timer events"] += len(engine.tick(now))
            else:
                fire_some(engine, rng, case_ids, now, counts)
            barrier.wait(timeout=120)
        engine.store.close()  # type: ignore[attr-defined]
        results.put((role, dict(counts), None))
    except Exception:  # noqa: BLE001 - reported to the test, which fails with it
        barrier.abort()
        results.put((role, dict(counts), traceback.format_exc()))


def fire_some(engine: Engine, rng: random.Random, case_ids: list[str], now: datetime,
              counts: Counter[str]) -> None:
    """Fire on one case whose timer is due now (racing the workers for it: a fire runs the
    due timers first) and on one case at random (few, so that periods still run out)."""
    due = [c.id for c in engine.cases() if (t := c.next_timer()) is not None and t <= now]
    for case_id in rng.sample(due, k=min(1, len(due))) + [rng.choice(case_ids)]:
        state = engine.case(case_id).state
        options = BY_STATE.get(state)
        if not options:
            continue
        trigger, data = rng.choice(options)
        try:
            engine.fire(case_id, trigger, data=data, actor=MEDIATOR, at=now)
            counts["fired"] += 1
        except ConcurrentUpdate:
            counts["conflicts"] += 1
        except (TriggerRejected, ClockError):
            counts["refused"] += 1  # the case moved on between our read and our fire
