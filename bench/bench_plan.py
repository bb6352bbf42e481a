"""The Python work of a tick per due case, in memory: decoding the due rows, planning them,
building their rows again, and the row cache. No database, no writes.

    python bench/bench_plan.py [--due 10000] [--rounds 5] [--pieces] [--json FILE]

The due rows are those of bench_tick.py's load (copies of a medical_dispute case in
mediation whose 30-working-day deadline has run out: each plans a timer event and the
automatic `mediation_failed`, each with a notice). Per round, with the collector off as
`Engine.tick` keeps it:

- decode: `decode_case` of each row, its instants in SQLite's form (UTC text), as
  `SqlStore.cases_of` does;
- plan: `Planner.timers` of each case (it owns the case, as in the tick);
- row: `case_values` of each case after it, taking the data text of the row read (what
  `append_many` does for timer events);
- remember: the row cache as a tick uses it, 500 cases a group: each row remembered when
  read, and again when written (`RowCache` at the store's limit).

Prints the median of the rounds in us per case (CPU time of this process; wall beside it),
the load average, and a digest of every event's sealed text and hash in the first round:
two checkouts that print the same digest wrote the same event bytes. Alternate with a
checkout of the base commit, each running this script with `PYTHONPATH` on its code
(`FLOWENGINE_BENCH_CODE` names it in `--json`); the script itself only uses the engine's
public planning, codec and row-cache interfaces, which the base has too.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import statistics
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from bench_tick import NOW, PROCESSES, rows, template

from flowengine import Engine, SimulatedClock
from flowengine.engine.planner import Planner
from flowengine.store.codec import case_values, decode_case, instant_from_db
from flowengine.store.rowcache import RowCache
from flowengine.store.sqlrows import CHANGING, SEEN_MAX

GROUP = 500  # cases a tick plans and writes together


def sqlite_row(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with its instants in SQLite's stored form (fixed-width UTC text)."""
    out = dict(row)
    for name in ("created_at", "updated_at", "next_timer_at"):
        value = out[name]
        if value is not None:
            out[name] = value.astimezone(UTC).isoformat(timespec="microseconds")
    return out


def one_round(planner: Planner, source: list[dict[str, Any]], dup_fields: tuple[str, ...],
              digest: Any) -> dict[str, tuple[float, float]]:
    """CPU and wall seconds of each step over every row of `source`."""
    spent: dict[str, tuple[float, float]] = {}

    def timed(name: str, fn: Any) -> Any:
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        spent[name] = (time.process_time() - c0, time.perf_counter() - w0)
        return out

    cases = timed("decode", lambda: [decode_case(r, instant_from_db) for r in source])
    planned = timed("plan", lambda: [planner.timers(c, NOW, owned=True) for c in cases])
    timed("row", lambda: [case_values(after, False, dup_fields, r)
                          for (_, after), r in zip(planned, source, strict=True)])
    cache = RowCache(CHANGING, limit=SEEN_MAX, joined=lambda: False)

    def remember() -> None:
        for start in range(0, len(source), GROUP):
            group = source[start:start + GROUP]
            for r in group:
                cache.remember(r["id"], r["seq"], r)
            for r in group:
                cache.remember(r["id"], r["seq"] + 2, r)

    timed("remember", remember)
    if digest is not None:
        for events, _ in planned:
            for e in events:
                digest.update(e.canonical_body().encode("utf-8"))
                digest.update(e.hash.encode("ascii"))
    assert sum(len(events) for events, _ in planned) == 2 * len(source)
    return spent


def pieces(planner: Planner, row: dict[str, Any], dup_fields: tuple[str, ...]) -> dict[str, float]:
    """Each step of one due case timed alone, over and over on the same objects (the best
    of 7 repeats of this process's CPU time, us a call): steadier than the rounds on a
    loaded machine, and without the cache misses of thousands of cases, so smaller."""
    from flowengine.engine.deadlines import Step
    from flowengine.engine.fold import apply
    from flowengine.engine.notify import notifications_for
    from flowengine.engine.planner import Moment
    from flowengine.records.case import SYSTEM

    cp = planner.cp
    case = decode_case(row, instant_from_db)
    events, after = planner.timers(case.copy(), NOW)
    timer, fired = events
    at = timer.at
    before_fire = apply(cp.process, case.copy(), timer)
    expired = [dict(e) for e in timer.effects]
    notes = timer.notifications
    cache = RowCache(CHANGING, limit=SEEN_MAX, joined=lambda: False)
    for i in range(SEEN_MAX):
        cache.remember(f"K{i:07d}", 1, row)
    fresh = iter([f"N{i:08d}" for i in range(2_000_000)])

    def timed(fn: Any, number: int = 20_000) -> float:
        times = []
        for _ in range(7):
            c0 = time.process_time()
            for _ in range(number):
                fn()
            times.append(time.process_time() - c0)
        return min(times) / number * 1e6

    def seal() -> Any:
        now = Moment(planner, case, SYSTEM, at)
        return now.draft("timer", data={}, effects=expired).seal(notes)

    return {
        "decode": timed(lambda: decode_case(row, instant_from_db)),
        "timer notice": timed(lambda: notifications_for(cp, before_fire, Step(at), expired)),
        "fire notice": timed(lambda: notifications_for(
            cp, after, Step(at, SYSTEM, trigger=fired.trigger, source=fired.source,
                            dest=fired.dest))),
        "timer seal": timed(seal),
        "fire": timed(lambda: planner.fire(before_fire, str(fired.trigger), {}, SYSTEM, at,
                                           auto=True)),
        "timers": timed(lambda: planner.timers(case.copy(), NOW, owned=True), 10_000),
        "row": timed(lambda: case_values(after, False, dup_fields, row)),
        "remember at the limit": timed(lambda: cache.remember(next(fresh), 1, row)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pieces", action="store_true",
                        help="time each step of one case alone instead (`pieces`)")
    parser.add_argument("--json", type=Path, default=None,
                        help="append the figures as a JSON line to this file")
    args = parser.parse_args()
    os.environ["FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    engine = Engine(processes=[PROCESSES], clock=SimulatedClock(NOW))
    _, case, _ = template()
    cp = engine.compiled(case)
    planner = Planner.of(cp)
    dup_fields = tuple(cp.process.duplicate_key)
    source = [sqlite_row(r) for r in rows(args.due, args.due)]
    if args.pieces:
        gc.disable()
        timed = pieces(planner, source[0], dup_fields)
        load = os.getloadavg()
        print(f"{time.strftime('%H:%M:%S', time.gmtime())} UTC, load {load[0]:.2f}, "
              "alone: " + ", ".join(f"{name} {us:.2f}" for name, us in timed.items())
              + " us a call (CPU, best of 7)")
        if args.json is not None:
            with args.json.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"code": os.environ.get("FLOWENGINE_BENCH_CODE", ""),
                                     "load": load, "pieces_us": timed}) + "\n")
        return
    digest = hashlib.sha256()
    results: list[dict[str, tuple[float, float]]] = []
    for i in range(args.rounds):
        gc.collect()
        gc.disable()
        try:
            results.append(one_round(planner, source, dup_fields, digest if i == 0 else None))
        finally:
            gc.enable()
    per_case = {name: (statistics.median(r[name][0] for r in results) / args.due * 1e6,
                       statistics.median(r[name][1] for r in results) / args.due * 1e6)
                for name in results[0]}
    load = os.getloadavg()
    code = os.environ.get("FLOWENGINE_BENCH_CODE", str(Path(__file__).resolve().parent.parent))
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} UTC, load {load[0]:.2f}, "
          f"{args.due:,} due, {args.rounds} rounds, events {digest.hexdigest()[:16]}: "
          + ", ".join(f"{name} {cpu:.1f} ({wall:.1f})" for name, (cpu, wall) in per_case.items())
          + " us/case CPU (wall)")
    if args.json is not None:
        with args.json.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"code": code, "load": load, "due": args.due,
                                 "rounds": args.rounds, "events": digest.hexdigest(),
                                 "us_per_case": per_case}) + "\n")


if __name__ == "__main__":
    main()
