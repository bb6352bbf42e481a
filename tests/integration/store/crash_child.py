"""Child process of the crash test: drive medical_dispute cases through the engine on a
SQLite file as fast as it can, forever, until the parent SIGKILLs it.

    python crash_child.py DB_URL PROCESSES_DIR START_DAY PROGRESS_FILE

Each run covers at most 56 days from 2026-01-05 + START_DAY (the parent gives every run
its own later window, so time never goes back across restarts).

Every event's notifications are also written as outbox rows (by `OutboxingStore`, in the
same `append`), so the parent can check that no outbox row outlives its event and no event
lost its rows. After each commit the count of events written so far goes to PROGRESS_FILE,
so the parent knows the child is mid-stream before it kills it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.records.case import Actor, Case
from flowengine.records.events import Event
from flowengine.store.base import AppendItem, OutboxRow
from flowengine.store.sql import SqlStore

RECEPTION = Actor("王芳", "reception")
DIRECTOR = Actor("李明", "office_director")
STEPS: list[tuple[str, Actor, dict[str, Any]]] = [
    ("verify_identity", RECEPTION, {}),
    ("determine", DIRECTOR, {"category": "medical_quality", "cause": "hospital",
                             "responsibility": "hospital"}),
    ("give_feedback", DIRECTOR, {}),
    ("route_claim", DIRECTOR, {}),
]


class OutboxingStore:
    """The SQL store, with one outbox row per notification added to every append."""

    def __init__(self, inner: SqlStore, progress: str) -> None:
        self.inner = inner
        self.progress = progress
        self.written = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def append(self, case: Case, events: Sequence[Event], expected_seq: int,
               final: bool = False, outbox: Sequence[OutboxRow] = ()) -> None:
        rows = crash_rows(events)
        self.inner.append(case, events, expected_seq, final=final, outbox=[*outbox, *rows])
        self._progress(len(events))

    def append_many(self, items: Sequence[AppendItem]) -> list[bool]:
        done = self.inner.append_many([AppendItem(c, evs, seq, final, [*outbox, *crash_rows(evs)])
                                       for c, evs, seq, final, outbox in items])
        self._progress(sum(len(item[1]) for item, ok in zip(items, done, strict=True) if ok))
        return done

    def _progress(self, n: int) -> None:
        self.written += n
        with open(self.progress, "w") as f:
            f.write(str(self.written))


def crash_rows(events: Sequence[Event]) -> list[OutboxRow]:
    return [OutboxRow(id=f"{n['id']}:crash", case_id=e.case_id, seq=e.seq,
                      channel="crash", created_at=e.at, payload=dict(n))
            for e in events for n in e.notifications]


def main(url: str, processes: str, start_day: int, progress: str) -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=8)))
    clock = SimulatedClock(start + timedelta(days=start_day))
    until = clock.now() + timedelta(days=55)  # stay inside the years the calendar covers
    store = OutboxingStore(SqlStore(url), progress)
    engine = Engine(store=store, processes=[processes], clock=clock)  # type: ignore[arg-type]
    open_cases: list[tuple[str, int]] = []
    n = 0
    while True:
        n += 1
        clock.advance(timedelta(minutes=7))
        case = engine.start("medical_dispute", actor=RECEPTION, data={
            "complainant": f"投诉人{n}", "relation": "patient", "patient": f"患者{n}",
            "department_kind": "inpatient", "claim_amount": "35000.00"})
        open_cases.append((case.id, 0))
        for i, (case_id, step) in enumerate(open_cases[:-1]):
            trigger, actor, data = STEPS[step]
            engine.fire(case_id, trigger, data=data, actor=actor)
            open_cases[i] = (case_id, step + 1)
        open_cases = [(c, s) for c, s in open_cases if s < len(STEPS)]
        if n % 3 == 0 and clock.now() + timedelta(days=1) < until:
            clock.advance(timedelta(days=1))  # mediation periods run out: timers fire
            engine.tick()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
