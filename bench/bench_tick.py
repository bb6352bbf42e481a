"""`tick` with 1,000,000 open cases: nothing due, then 1,000 due. Time and peak memory.

    python bench/bench_tick.py [--cases 1000000] [--due 1000 10000] [--no-pg]

The cases are bulk-inserted straight into the `cases` table (not timed): copies of a real
medical_dispute case waiting in mediation, each with its own 30-working-day deadline, the
timers spread evenly over the next 60 days, and `--due` of them fallen due an hour ago.
Then, through `Engine.tick`:

- 0 due: a tick at an instant before every timer. It must be one index range scan on
  `cases.next_timer_at` (the query plan is printed and checked) and load no case;
- `--due` due (each size on a fresh load): each due case runs out (timer event + the
  automatic `mediation_failed`), with a second writer process measuring how long it
  waits for the write lock meanwhile; then a second tick at the same instant must fire
  nothing. On SQLite the same rows are then written by bare sqlite3
  (`raw_same_rows`), 1,000 events per commit, for the ratio.

Peak memory is tracemalloc's peak during the tick (Python allocations). Results replace
the "tick" section of bench/RESULTS-store.md. The loaded SQLite database is built once (bulk
insert, indexes after) and kept as a template under $TMPDIR/flowengine-bench-tick, named by
a fingerprint of the load parameters, the copied row and the schema; later runs copy it.
Needs ~1.5 GB of disk per template of 1,000,000 cases, and as much again while running.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import multiprocessing
import os
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from store_common import ROOT, machine, machine_table, postgres, remove_sqlite, write_section

from flowengine import Actor, Engine, SimulatedClock
from flowengine.engine import engine as engine_module
from flowengine.store.codec import case_values, dump_deadlines
from flowengine.store.schema import cases as cases_table
from flowengine.store.sql import SqlStore

PROCESSES = ROOT / "processes"
CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=CST)
COLUMNS = [c.name for c in cases_table.c]
PROFILE: Path | None = None  # --profile: where the due tick's cProfile stats go
PHASES = False  # --phases: time the due tick's phases (wraps methods: a little slower)
TRACE = False  # --trace: print each transaction of the due tick and the probe's longest waits
LOCK_BUDGET: float | None = None  # --lock-budget: the store's `lock_budget` (None: its default)


def template() -> tuple[dict[str, Any], Any, str]:
    """A real case in mediation (its row values and deadline) and its definition text."""
    engine = Engine(processes=[PROCESSES], clock=SimulatedClock(NOW - timedelta(days=70)))
    reception, director = Actor("王芳", "reception"), Actor("李明", "office_director")
    case = engine.start("medical_dispute", actor=reception, data={
        "complainant": "张某", "relation": "guardian", "patient": "张小某",
        "department_kind": "outpatient", "claim_amount": "35000"})
    for trigger, actor, data in [
            ("verify_identity", reception, {}),
            ("determine", director, {"category": "medical_quality", "cause": "hospital",
                                     "responsibility": "hospital"}),
            ("give_feedback", director, {}), ("route_claim", director, {}),
            ("apply_mediation", director, {"mediation_committee": "区医调委"}),
            ("accept_mediation", Actor("周某", "mediator"), {})]:
        case = engine.fire(case.id, trigger, data=data, actor=actor)
    assert case.state == "mediation"
    process = engine.process("medical_dispute")
    return case_values(case, False, process.duplicate_key), case, process.source_text


def rows(n: int, due: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`n` case rows: `due` of them due an hour before NOW, the rest over the next 60 days."""
    row, case, _ = template()
    deadline = case.deadlines["mediation"]
    rng = random.Random(seed)
    due_ones = set(rng.sample(range(n), due))
    for i in range(n):
        if i in due_ones:
            at = NOW - timedelta(minutes=rng.randint(1, 60))
        else:
            at = NOW + timedelta(seconds=rng.randint(60, 60 * 86400))
        d = replace(deadline, due=at, due_date=(at.astimezone(CST) - timedelta(days=1)).date())
        yield {**row, "id": f"B{i:07d}", "deadlines": dump_deadlines({d.name: d}),
               "next_timer_at": at, "dup_key": None}


TEMPLATES = Path(tempfile.gettempdir()) / "flowengine-bench-tick"
LOAD_VERSION = 2  # bump when rows() or the load changes what a template holds


def load_sqlite(path: Path, n: int, due: int) -> str:
    """A copy of the loaded database at `path`: built once per load parameters and kept
    under /tmp as a template (named by a fingerprint of the parameters, the row a case
    is copied from and the schema), so later runs copy a file instead of loading again."""
    row, case, text = template()
    fingerprint = hashlib.sha256(json.dumps(
        [LOAD_VERSION, n, due, case.digest, _schema_sql(path.parent), sorted(row.items())],
        default=str).encode()).hexdigest()[:16]
    kept = TEMPLATES / f"tick-{n}-{due}-{fingerprint}.db"
    if not kept.exists():
        TEMPLATES.mkdir(exist_ok=True)
        building = kept.with_suffix(f".building-{os.getpid()}")
        t0 = time.perf_counter()
        _build(building, n, due, case.digest, text)
        os.replace(building, kept)
        print(f"template {kept.name}: {n:,} cases built in {time.perf_counter() - t0:.0f} s")
    remove_sqlite(path)
    shutil.copyfile(kept, path)
    return f"sqlite:///{path}"


def _schema_sql(folder: Path) -> list[str]:
    """The schema a fresh store creates (a template made for another schema is not used)."""
    probe = folder / "schema-probe.db"
    with SqlStore(f"sqlite:///{probe}"):
        pass
    conn = sqlite3.connect(probe)
    found = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")]
    conn.close()
    remove_sqlite(probe)
    return found


def _build(path: Path, n: int, due: int, digest: str, text: str) -> None:
    """Bulk load: the schema from a store, the `cases` indexes dropped during the insert
    and built after it (sorting once is much faster than 1M random index inserts), no
    journal, then WAL again and checkpointed, so the file is complete by itself."""
    with SqlStore(f"sqlite:///{path}") as store:
        store.save_definition(digest, "medical_dispute", "2026.1", text)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    indexes = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases' "
        "AND sql IS NOT NULL")]
    for name, in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                              "AND tbl_name = 'cases' AND sql IS NOT NULL").fetchall():
        conn.execute(f"DROP INDEX {name}")
    sql = f"INSERT INTO cases ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    batch: list[tuple[Any, ...]] = []
    for r in rows(n, due):
        batch.append(tuple(_sqlite_value(r[c]) for c in COLUMNS))
        if len(batch) == 20_000:
            _insert(conn, sql, batch)
    _insert(conn, sql, batch)
    for ddl in indexes:
        conn.execute(ddl)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _insert(conn: sqlite3.Connection, sql: str, batch: list[tuple[Any, ...]]) -> None:
    conn.execute("BEGIN")
    conn.executemany(sql, batch)
    conn.execute("COMMIT")
    batch.clear()


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat(timespec="microseconds")
    return v


def load_pg(url: str, n: int, due: int) -> str:
    digest, text = _digest_and_text()
    with SqlStore(url) as store:
        store.save_definition(digest, "medical_dispute", "2026.1", text)
        raw = store.engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cur:
                with cur.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for r in rows(n, due):
                        copy.write_row([r[c] for c in COLUMNS])
                cur.execute("ANALYZE cases")
            raw.driver_connection.commit()
        finally:
            raw.close()
    return url


def _digest_and_text() -> tuple[str, str]:
    _, case, text = template()
    return case.digest, text


# ---------------------------------------------------------------------- measuring
def measured(fn: Callable[[], Any], trace: bool = True) -> tuple[Any, float, int]:
    """(result, seconds, tracemalloc peak bytes; 0 when not traced: tracemalloc slows
    Python code down about twofold, so a rate is measured without it)."""
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return result, seconds, peak


def plan_of(store: SqlStore, now: datetime) -> str:
    """The database's plan for the due page the tick reads first (`due_page(now)`)."""
    assert store.due_page(now) == []
    prepared, sql = store._sql.due_page(False, engine_module.DUE_PAGE)
    params = prepared.args({"now": now})
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            return "; ".join(str(r[-1]) for r in rows)
        rows = conn.exec_driver_sql("EXPLAIN " + sql, params)
        return "; ".join(r[0].strip() for r in rows)


def run_backend(name: str, url: str, n: int, due: int, rounds: int) -> dict[str, Any]:
    engine = Engine(db=url, processes=[PROCESSES], clock=SimulatedClock(NOW))
    store: SqlStore = engine.store  # type: ignore[assignment]
    if LOCK_BUDGET is not None:
        store.lock_budget = LOCK_BUDGET
    before = NOW - timedelta(hours=2)  # earlier than every timer
    plan = plan_of(store, before)
    assert "next_timer_at" in plan and "SCAN cases" not in plan and "Seq Scan" not in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # the index's order
    zero = [measured(lambda: engine.tick(before)) for _ in range(rounds)]
    assert all(r == [] for r, _, _ in zero)
    sqlite_file = store.engine.url.database if store.engine.dialect.name == "sqlite" else None
    pre = due_rows(sqlite_file) if sqlite_file else []
    if sqlite_file:  # the raw loop's database: this one as it is before the tick
        copy = sqlite3.connect(sqlite_file)
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy.close()
        shutil.copyfile(sqlite_file, Path(sqlite_file).with_name("raw.db"))
        os.sync()  # the copy's writeback would otherwise slow the flushes timed below
    holds: list[tuple[float, float, float]] = hold_timer(store)
    waits: list[tuple[float, float]] = []
    cpu_s = 0.0
    phases = phase_timer(store) if PHASES else None
    if PROFILE is not None:
        profiler = cProfile.Profile()
        fired, seconds, peak = measured(lambda: profiler.runcall(engine.tick, NOW), trace=False)
        profiler.dump_stats(PROFILE)
    else:
        cpu = time.process_time()
        began = time.perf_counter()
        (fired, seconds, peak), waits = probed(
            sqlite_file, lambda: measured(lambda: engine.tick(NOW), trace=False))
        cpu_s = time.process_time() - cpu
        if TRACE:
            print_trace(began, holds, waits, sqlite_file)
    del store._held.write  # type: ignore[method-assign]  # the timer: back to the class's
    phased = phases() if phases is not None else None  # the due tick's alone (the reads
    # and the raw loop below run with the collector on: their collections are not its)
    again, again_s, _ = measured(lambda: engine.tick(NOW))
    moved = len(engine.cases(state="court_advised", limit=due + 10))
    store.close()
    assert again == [] and moved == due, (len(again), moved)
    raw_s, raw_cpu_s = raw_same_rows(sqlite_file, pre) if sqlite_file else (None, None)
    return {"backend": name, "cases": n, "due": due, "plan": plan, "raw_s": raw_s,
            "raw_cpu_s": raw_cpu_s,
            "zero_ms": statistics.median(s for _, s, _ in zero) * 1e3,
            "zero_peak_kib": max(p for _, _, p in zero) / 1024,
            "due_s": seconds, "due_peak_kib": peak / 1024, "events": len(fired),
            "again_ms": again_s * 1e3, "hold_ms": [(end - t0) * 1e3 for t0, _, end in holds],
            "statements_ms": [(done - t0) * 1e3 for t0, done, _ in holds],
            "commit_ms": [(end - done) * 1e3 for _, done, end in holds],
            "wait_ms": [w * 1e3 for _, w in waits], "cpu_s": cpu_s,
            "phases": phased}


def phase_timer(store: SqlStore) -> Callable[[], dict[str, list[float]]]:
    """[wall, CPU, of which system, minor page faults] of each phase of the next tick, by
    wrapping the store's methods and the planner (whichever of them this checkout has),
    and the wall seconds of the cycle collector's runs; call the result right after the
    tick for the totals (and to unwrap). Page faults are memory the process had never
    touched: each costs system time, so a phase that keeps fresh memory pays for it."""
    from flowengine.engine.planner import Planner

    found: dict[str, list[float]] = {}

    def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            try:
                return fn(*args, **kwargs)
            finally:
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                got = found.setdefault(label, [0.0, 0.0, 0.0, 0])
                got[0] += time.perf_counter() - t0
                got[1] += r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
                got[2] += r1.ru_stime - r0.ru_stime
                got[3] += r1.ru_minflt - r0.ru_minflt
        return run

    names = [n for n in ("due_cases", "due_page", "load_cases", "cases_of", "append_many")
             if hasattr(store, n)]
    for name in names:
        setattr(store, name, timed(name, getattr(store, name)))
    timers = Planner.timers
    Planner.timers = timed("plan (Planner.timers)", timers)  # type: ignore[method-assign]
    started: list[float] = []

    def collector(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            got = found.setdefault("cycle collector", [0.0, 0.0, 0.0, 0])
            got[0] += time.perf_counter() - started.pop()
            got[1] = got[0]

    gc.callbacks.append(collector)

    def done() -> dict[str, list[float]]:
        gc.callbacks.remove(collector)
        Planner.timers = timers  # type: ignore[method-assign]
        for name in names:
            delattr(store, name)
        return found

    return done


def lock_probe(path: str, stop: Any, waits: Any) -> None:
    """Another writer, in its own process: asks for the write lock (BEGIN IMMEDIATE, no
    busy timeout, retried every 0.2 ms) every 2 ms until `stop` is set, and reports when
    each try began (`perf_counter`: the system's monotonic clock, the same in both
    processes) and how long it waited. Its longest wait bounds from above how long the
    tick held the lock at a stretch (claim transactions, when the tick claims, included),
    as another worker or a clerk's `fire` would see it."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    found: list[tuple[float, float]] = []
    while not stop.is_set():
        t0 = time.perf_counter()
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError:
                time.sleep(0.0002)
        found.append((t0, time.perf_counter() - t0))
        conn.execute("ROLLBACK")
        time.sleep(0.002)
    conn.close()
    waits.put(found)


def probed(path: str | None, fn: Callable[[], Any]) -> tuple[Any, list[tuple[float, float]]]:
    """`fn()` with a `lock_probe` process beside it (SQLite only): (result, waits)."""
    if path is None:
        return fn(), []
    ctx = multiprocessing.get_context("spawn")
    stop, waits = ctx.Event(), ctx.Queue()
    probe = ctx.Process(target=lock_probe, args=(path, stop, waits))
    probe.start()
    time.sleep(0.5)  # the probe started and asking
    try:
        result = fn()
    finally:
        stop.set()
        found = waits.get()
        probe.join()
    return result, found


def hold_timer(store: SqlStore) -> list[tuple[float, float, float]]:
    """Time every write transaction of the tick: (BEGIN IMMEDIATE asked, statements done,
    COMMIT returned). The write lock is held from the BEGIN until the COMMIT has written and
    flushed the WAL; a COMMIT that takes the WAL past `wal_autocheckpoint` pages then runs
    the checkpoint, after the lock is released (other writers do not wait for it, the tick
    does), so the last figure bounds the hold from above."""
    holds: list[tuple[float, float, float]] = []
    inner = store._held.write

    @contextmanager
    def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        t0 = time.perf_counter()
        done = 0.0
        try:
            with inner(*args, **kwargs) as cur:
                yield cur
                done = time.perf_counter()
        finally:
            end = time.perf_counter()
            holds.append((t0, done or end, end))

    store._held.write = timed  # type: ignore[method-assign]
    return holds


def print_trace(began: float, holds: list[tuple[float, float, float]],
                waits: list[tuple[float, float]], path: str | None) -> None:
    """`--trace`: each transaction of the due tick (ms since the tick began: BEGIN asked,
    statements, COMMIT), the WAL's size after the tick, and the probe's ten longest waits
    with the transactions they overlapped (a wait across two transactions means the lock
    was free too briefly between them for the probe to take it)."""
    print(f"{len(holds)} transactions (ms from the tick's start: begin, statements, COMMIT)")
    for t0, done, end in holds:
        print(f"  {(t0 - began) * 1e3:9.1f}  statements {(done - t0) * 1e3:6.2f}  "
              f"COMMIT {(end - done) * 1e3:6.2f}")
    if path is not None and os.path.exists(path + "-wal"):
        print(f"WAL after the tick: {os.path.getsize(path + '-wal') / 4096:,.0f} pages")
    print("the probe's longest waits (ms from the tick's start: asked, waited; transactions)")
    for t0, w in sorted(waits, key=lambda x: -x[1])[:10]:
        over = [f"{(a - began) * 1e3:.1f}" for a, _, b in holds if a < t0 + w and b > t0]
        print(f"  {(t0 - began) * 1e3:9.1f}  {w * 1e3:6.1f}  {', '.join(over) or '-'}")


# ---------------------------------------------------------------------- raw baseline
def due_rows(path: str) -> list[sqlite3.Row]:
    """The due cases' rows as they are before the tick."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    now = _sqlite_value(NOW)
    found = conn.execute("SELECT * FROM cases WHERE next_timer_at <= ?", (now,)).fetchall()
    conn.close()
    return found


def raw_same_rows(path: str, pre: list[sqlite3.Row], group: int = 500) -> tuple[float, float]:
    """Seconds (wall, and this process's CPU) for bare sqlite3 to write what the tick
    wrote (the same event rows and case UPDATEs with the same SET lists and seq check),
    `group` cases per commit (1,000 events), WAL + FULL, into a copy of the database taken
    just before the tick. The CPU figure beside the tick's (`cpu_s`) is a ratio another
    process's load on the machine moves less than the wall clock's."""
    src = sqlite3.connect(path)
    src.row_factory = sqlite3.Row
    ids = [r["id"] for r in pre]
    marks = ", ".join("?" * len(ids))
    evs = src.execute(f"SELECT * FROM events WHERE case_id IN ({marks}) ORDER BY case_id, seq",
                      ids).fetchall()
    post = {r["id"]: r for r in src.execute(f"SELECT * FROM cases WHERE id IN ({marks})", ids)}
    src.close()
    fresh = Path(path).with_name("raw.db")
    conn = sqlite3.connect(fresh, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    ev_cols = [c for c in evs[0].keys() if c != "id"]
    ev_sql = (f"INSERT INTO events ({', '.join(ev_cols)}) "
              f"VALUES ({', '.join('?' * len(ev_cols))})")
    by_case: dict[str, list[tuple[Any, ...]]] = {}
    for e in evs:
        by_case.setdefault(e["case_id"], []).append(tuple(e[c] for c in ev_cols))
    work = []
    for old in pre:
        new = post[old["id"]]
        changed = [c for c in old.keys() if c != "id" and old[c] != new[c]]
        if "claimed_until" not in changed:
            changed.append("claimed_until")  # the store always sets it: releases the claim
        sql = (f"UPDATE cases SET {', '.join(f'{c} = ?' for c in changed)} "
               "WHERE id = ? AND seq = ?")
        work.append((sql, (*[new[c] for c in changed], old["id"], old["seq"]),
                     by_case[old["id"]]))
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(work), group):
        conn.execute("BEGIN IMMEDIATE")
        for sql, params, rows_ in work[i:i + group]:
            assert conn.execute(sql, params).rowcount == 1
            conn.executemany(ev_sql, rows_)
        conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.close()
    for f in fresh.parent.glob("raw.db*"):
        f.unlink()
    return seconds, cpu


def report(results: list[dict[str, Any]], info: dict[str, Any], args: Any) -> str:
    dues = ", ".join(f"{d:,}" for d in args.due)
    lines = ["## tick with 1,000,000 open cases (bench_tick.py)", "",
             f"`python bench/bench_tick.py --cases {args.cases} --due "
             f"{' '.join(map(str, args.due))}`: cases bulk-inserted (not timed), timers "
             f"spread over 60 days, {dues} of them due (a fresh load each); 0-due tick = "
             f"median of {args.rounds}; peak = tracemalloc peak during the 0-due tick (the due "
             "tick is timed without tracemalloc, which slows Python about twofold). The tick "
             "reads the due cases with their rows a page (`DUE_PAGE`) at a time without "
             "claiming them (it claims, `store.claim_chunk` rows per transaction, only once "
             "another writer takes one of its cases) and commits them through "
             "`append_many` in transactions of about `store.lock_budget`. The loaded "
             "database is built once per load parameters and copied for each run (a "
             "template under /tmp, checked by a fingerprint).", "",
             "`append transaction`: from BEGIN IMMEDIATE until COMMIT returns (the flush, "
             "and any WAL checkpoint SQLite runs after releasing the lock, included); "
             "`statements`: from BEGIN IMMEDIATE until the COMMIT is asked (the lock is held "
             "that long and through the COMMIT's write and flush). "
             "`another writer's wait`: a second process asks for the write lock every 2 ms "
             "during the tick (no busy timeout, retried every 0.2 ms); its waits bound how "
             "long the tick held the lock at a stretch, claims included.", "",
             "`raw same rows`: bare sqlite3 writing what the tick wrote (the same event rows, "
             "the same case UPDATEs with the same SET lists and seq check), 500 cases = 1,000 "
             "events per commit, WAL + FULL, into a copy of the database taken just before "
             "the tick; measured right after the tick in the same run.", "",
             machine_table(info),
             "| backend | open cases | 0 due: time | 0 due: peak memory | due cases | "
             "time to fire them | events | timer events/s | raw same rows events/s | "
             "ratio | second tick | append transaction, BEGIN to COMMIT: median / max | "
             "statements: max | another writer's wait for the lock: p50 / p99 / max |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rate = r["events"] / r["due_s"]
        raw = f"{r['events'] / r['raw_s']:,.0f}" if r["raw_s"] else "–"
        ratio = f"{r['raw_s'] / r['due_s']:.2f}×" if r["raw_s"] else "–"
        lines.append(
            f"| {r['backend']} | {r['cases']:,} | {r['zero_ms']:.2f} ms | "
            f"{r['zero_peak_kib']:.0f} KiB | {r['due']:,} | {r['due_s']:.2f} s | "
            f"{r['events']:,} | {rate:,.0f} | {raw} | {ratio} | {r['again_ms']:.1f} ms | "
            f"{statistics.median(r['hold_ms']):.0f} / {max(r['hold_ms']):.0f} ms | "
            f"{max(r['statements_ms'], default=0):.0f} ms | {_waits(r['wait_ms'])} |")
    lines += ["", "Query plans of the first due page (all a 0-due tick reads of `cases`):", ""]
    plans = {r["backend"]: r["plan"] for r in results}
    lines += [f"- {b}: `{p}`" for b, p in plans.items()]
    return "\n".join(lines) + "\n"


def _waits(waits: list[float]) -> str:
    """p50 / p99 / max of the probe's waits, and how many of its tries found the lock held."""
    if not waits:
        return "–"
    ordered = sorted(waits)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    held = sum(1 for w in waits if w > 0.5)
    return (f"{statistics.median(waits):.1f} / {p99:.0f} / {max(waits):.0f} ms "
            f"({held:,} of {len(waits):,} tries waited)")


def plan_only(due: int, rounds: int) -> None:
    """`--plan-only`: the tick's planning alone, in memory, no database: `due` rows like the
    due ones of the load decoded (`decode_case`, as `cases_of` does) and run out
    (`Planner.timers`, with the collector off as `tick` keeps it), `rounds` times. Prints
    the median per case and the load average beside it (the planner is the same code
    whichever store the tick runs on; alternate with a checkout of the base commit)."""
    from flowengine.engine.planner import Planner
    from flowengine.store.codec import decode_case, instant_from_db

    engine = Engine(processes=[PROCESSES], clock=SimulatedClock(NOW))
    _, case, _ = template()
    planner = Planner.of(engine.compiled(case))
    source = list(rows(due, due))  # instants as datetimes (PostgreSQL's form)
    walls, cpus, decodes, systems, faults = [], [], [], [], []
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            cases = [decode_case(r, instant_from_db) for r in source]
            t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            events = [planner.timers(c, NOW, owned=True)[0] for c in cases]
            r2 = resource.getrusage(resource.RUSAGE_SELF)
            walls.append(time.perf_counter() - t1)
            cpus.append(r2.ru_utime - r1.ru_utime + r2.ru_stime - r1.ru_stime)
            systems.append(r2.ru_stime - r1.ru_stime)
            faults.append(r2.ru_minflt - r1.ru_minflt)
            decodes.append(t1 - t0)
        finally:
            gc.enable()
        assert sum(len(e) for e in events) == 2 * due
    print(f"plan-only: {due:,} due cases, {rounds} rounds, load {os.getloadavg()}: "
          f"decode {statistics.median(decodes) / due * 1e6:.1f} us/case, "
          f"plan {statistics.median(walls) / due * 1e6:.1f} us/case "
          f"(CPU {statistics.median(cpus) / due * 1e6:.1f}, of which system "
          f"{statistics.median(systems) / due * 1e6:.1f}; "
          f"{statistics.median(faults) / due:.1f} page faults per case)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--json", type=Path, default=None,
                        help="append each backend's result as a JSON line to this file")
    parser.add_argument("--phases", action="store_true",
                        help="time the due tick's phases (store methods, planner, collector)")
    parser.add_argument("--trace", action="store_true",
                        help="print each transaction of the due tick (statements, COMMIT) "
                             "and the lock probe's longest waits beside them")
    parser.add_argument("--profile", type=Path, default=None,
                        help="run the due tick under cProfile and dump its stats here")
    parser.add_argument("--lock-budget", type=float, default=None,
                        help="seconds an append_many transaction may hold the write lock "
                             "(the store's lock_budget; default: the store's own)")
    parser.add_argument("--plan-only", action="store_true",
                        help="time only the planning of the largest --due, in memory "
                             "(no database; prints, writes nothing)")
    args = parser.parse_args()
    os.environ["FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if args.plan_only:
        plan_only(max(args.due), args.rounds)
        return
    global PROFILE, PHASES, LOCK_BUDGET, TRACE
    PROFILE, PHASES, LOCK_BUDGET, TRACE = args.profile, args.phases, args.lock_budget, args.trace
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        info = machine(folder)
        for due in args.due:
            t0 = time.perf_counter()
            url = load_sqlite(folder / "tick.db", args.cases, due)
            print(f"SQLite: {args.cases:,} cases loaded in {time.perf_counter() - t0:.0f} s")
            results.append(run_backend("SQLite (WAL, FULL)", url, args.cases, due,
                                       args.rounds))
            print({k: v for k, v in results[-1].items()
                   if k not in ("hold_ms", "statements_ms", "commit_ms", "wait_ms")})
            if args.json is not None:
                with args.json.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({**results[-1], "load": os.getloadavg(),
                                         "fsync_us": info.get("fsync_us"),
                                         "code": os.environ.get("FLOWENGINE_BENCH_CODE", str(ROOT))}) + "\n")
            for f in folder.glob("tick.db*"):
                f.unlink()
        if not args.no_pg:
            with postgres(durable=True) as pg:
                if pg is not None:
                    for due in args.due:
                        t0 = time.perf_counter()
                        url = load_pg(pg.fresh_url(), args.cases, due)
                        print(f"PostgreSQL: loaded in {time.perf_counter() - t0:.0f} s")
                        results.append(run_backend("PostgreSQL (durable)", url, args.cases,
                                                   due, args.rounds))
                        print({k: v for k, v in results[-1].items() if k not in (
                            "hold_ms", "statements_ms", "commit_ms", "wait_ms")})
    text = report(results, info, args)
    print(text)
    if not args.no_write:
        write_section("tick", text)


if __name__ == "__main__":
    main()
