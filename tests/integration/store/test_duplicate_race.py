"""Simultaneous starts of the same petition (same duplicate key) from separate processes
(multiprocessing "spawn", each with its own Engine) on one database: one open case, the
others flagged as its duplicates, on SQLite and PostgreSQL. Before the serialised check,
four such starts on SQLite opened four cases and flagged none."""

from __future__ import annotations

import multiprocessing
from collections import defaultdict

from duplicate_workers import PROCESSES, start_same_petitions

from flowengine.engine.engine import Engine

PROCS, ROUNDS = 4, 5


def test_simultaneous_starts_of_one_petition(db_url: str) -> None:
    Engine(db=db_url, processes=[PROCESSES]).store.close()  # type: ignore[attr-defined]  # schema first
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(PROCS), ctx.Queue()
    workers = [ctx.Process(target=start_same_petitions, args=(db_url, ROUNDS, barrier, out))
               for _ in range(PROCS)]
    for w in workers:
        w.start()
    results = [out.get(timeout=120) for _ in range(PROCS * ROUNDS)]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    by_round: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for r, case_id, duplicate_of in results:
        by_round[r].append((case_id, duplicate_of))
    for r, started in by_round.items():
        originals = [cid for cid, dup in started if dup is None]
        assert len(originals) == 1, (r, started)
        ids = {cid for cid, _ in started}  # every other one flagged, linked within the round
        assert all(dup in ids for cid, dup in started if cid not in originals), (r, started)
    engine = Engine(db=db_url, processes=[PROCESSES])
    stored = engine.cases(limit=1000)
    assert len(stored) == PROCS * ROUNDS
    assert sum(c.duplicate_of is None for c in stored) == ROUNDS
