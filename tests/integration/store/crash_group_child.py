"""Child process of the group-commit crash tests: K threads drive medical_dispute cases
through one engine whose store commits their appends in groups, forever, until the parent
SIGKILLs it.

    python crash_group_child.py DB_URL PROCESSES_DIR START_DAY REPORT_FILE

After each `start`/`fire` returns, the thread writes `CASE SEQ` to REPORT_FILE (unbuffered
writes reach the kernel, which a SIGKILL does not undo): the parent then checks that every
reported append is in the database.
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import datetime, timedelta, timezone

from crash_child import RECEPTION, STEPS, OutboxingStore

from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.store.sql import SqlStore

THREADS = 4


def main(url: str, processes: str, start_day: int, report: str) -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=8)))
    clock = SimulatedClock(start + timedelta(days=start_day))
    # outbox rows with every append, as in crash_child.py (the parent checks them too)
    store = OutboxingStore(SqlStore(url, group_commit=True), report + ".progress")
    engine = Engine(store=store, processes=[processes], clock=clock,  # type: ignore[arg-type]
                    plugins=[])
    fd = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    lock = threading.Lock()

    def told(case_id: str, seq: int) -> None:
        with lock:
            os.write(fd, f"{case_id} {seq}\n".encode())

    def firer(k: int) -> None:
        n = 0
        while True:
            n += 1
            case = engine.start("medical_dispute", actor=RECEPTION, data={
                "complainant": f"投诉人{os.getpid()}-{k}-{n}", "relation": "patient",
                "patient": f"患者{os.getpid()}-{k}-{n}", "department_kind": "inpatient",
                "claim_amount": "35000.00"})
            told(case.id, case.seq)
            for trigger, actor, data in STEPS:
                case = engine.fire(case.id, trigger, data=data, actor=actor)
                told(case.id, case.seq)

    threads = [threading.Thread(target=firer, args=(k,), daemon=True) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
