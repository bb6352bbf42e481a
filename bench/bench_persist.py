"""Durable fires/s: `Engine.fire` on the SQL store (each fire its own transaction) against raw
loops doing the same writes, measured side by side in the same rounds, reported as ratios.

    python bench/bench_persist.py [--cases 200] [--rounds 5] [--no-pg] [--profile]

Workload: the peer reference process (bench/refproc.yaml), `--cases` cases started before
the clock starts, then every case driven through its triggers (triage … archive), one
`Engine.fire` per transition. The loops compared, each on a fresh database file:

- `raw peer rows`: shared/peer-bench's row "raw sqlite3, 1 commit/event, WAL FULL, event
  INSERT + UPDATE cases" (small rows, the peer schema): the target's reference (≥ 0.5×);
- `raw same rows`: sqlite3 writing exactly the rows flowengine writes (the same tables,
  indexes, statements and values, recorded from an in-memory run): the floor for our rows;
- `engine`: `Engine.fire` with `SqlStore` (load, plan, fold, hash, append, commit);
- the same at `synchronous=NORMAL` (no flush per commit: what the CPU costs), and on a
  durable PostgreSQL server (fsync on) against raw psycopg doing the same statements.

Results (medians of the rounds, with the machine and the disk's flush latency) replace the
"persist" section of bench/RESULTS-store.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from store_common import HERE, machine, machine_table, postgres, remove_sqlite, write_section

from flowengine import Actor, Engine, SimulatedClock
from flowengine.records.case import Case
from flowengine.records.events import Event
from flowengine.store.base import OutboxRow
from flowengine.store.codec import case_values
from flowengine.store.connect import open_engine
from flowengine.store.memory import MemoryStore
from flowengine.store.sql import SqlStore
from flowengine.store.sqlrows import CHANGING, event_row

REFPROC = HERE / "refproc.yaml"
MAIN = ("triage", "decide", "investigate", "reply", "close", "archive")
REDIRECT = ("triage", "decide")
ACTOR = Actor("bench", "clerk")
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def path_for(i: int) -> tuple[str, ...]:
    return MAIN if i % 10 else REDIRECT


def fires_of(cases: int) -> list[tuple[int, str]]:
    """(case index, trigger), trigger by trigger across all cases (requests interleave)."""
    return [(i, t) for step in range(len(MAIN)) for i in range(cases)
            if step < len(path_for(i)) for t in [path_for(i)[step]]]


# ---------------------------------------------------------------------- flowengine
def run_engine(url: str | None, cases: int, profile: bool = False) -> float:
    """Fires/s of `Engine.fire` (starts are done before the clock starts)."""
    engine = Engine(db=url, processes=[REFPROC], clock=SimulatedClock(START), plugins=[])
    ids = [engine.start("refproc", {"in_jurisdiction": bool(i % 10)}, actor=ACTOR).id
           for i in range(cases)]
    work = [(ids[i], t) for i, t in fires_of(cases)]
    gc.collect()
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    for case_id, trigger in work:
        engine.fire(case_id, trigger, actor=ACTOR)
    if prof:
        prof.disable()
    rate = len(work) / (time.perf_counter() - t0)
    _close(engine)
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    return rate


def _close(engine: Engine) -> None:
    close = getattr(engine.store, "close", None)
    if close:
        close()


# ---------------------------------------------------------------------- recorded rows
class Recording(MemoryStore):
    """A MemoryStore that keeps every append, to replay the same rows in the raw loops."""

    def __init__(self) -> None:
        super().__init__()
        self.appends: list[tuple[Case, list[Event], int]] = []

    def append(self, case: Case, events: Sequence[Event], expected_seq: int,
               final: bool = False, outbox: Sequence[OutboxRow] = ()) -> None:
        super().append(case, events, expected_seq, final, outbox)
        self.appends.append((case.copy(), list(events), expected_seq))


def record(cases: int) -> tuple[list[tuple[Case, list[Event], int]], str]:
    """The appends of the same workload on a memory store, and the definition text."""
    store = Recording()
    engine = Engine(store=store, processes=[REFPROC], clock=SimulatedClock(START), plugins=[])
    ids = [engine.start("refproc", {"in_jurisdiction": bool(i % 10)}, actor=ACTOR).id
           for i in range(cases)]
    for i, trigger in fires_of(cases):
        engine.fire(ids[i], trigger, actor=ACTOR)
    return store.appends, engine.process("refproc").source_text


def same_rows(appends: list[tuple[Case, list[Event], int]]) -> list[tuple[
        tuple[str, ...], dict[str, Any], dict[str, Any]]]:
    """(columns to SET, UPDATE parameters, event INSERT parameters) of every fire: the
    columns whose values changed since the case's previous row, as the store sets them."""
    out, last = [], {}
    for case, events, expected in appends:
        row = case_values(case, final=case.state in ("archived", "redirected"))
        before, last[case.id] = last.get(case.id), row
        if expected == 0:
            continue
        assert before is not None
        columns = tuple(k for k in CHANGING if k == "claimed_until" or row[k] != before[k])
        row.update(k_id=case.id, k_seq=expected)
        (event,) = events
        out.append((columns, row, event_row(event)))
    return out


def prepare_same(url: str, appends: list[tuple[Case, list[Event], int]], text: str) -> SqlStore:
    """A database with flowengine's schema and the started cases (not timed)."""
    store = SqlStore(url)
    first = appends[0][0]
    store.save_definition(first.digest, first.process_id, "1", text)
    for case, events, expected in appends:
        if expected == 0:
            store.append(case, events, 0)
    return store


def prepared(store: SqlStore, appends: Any) -> list[tuple[str, Any, str, Any]]:
    """The SQL text and DBAPI parameters of every fire, made before the clock starts."""
    insert = store._sql.insert_event
    out = []
    for columns, u, e in same_rows(appends):
        update = store._sql.update_of(columns)
        out.append((update.sql, update.args(u), insert.sql, insert.args(e)))
    return out


def run_raw_same_sqlite(path: Path, sync: str, appends: Any, text: str) -> float:
    store = prepare_same(f"sqlite:///{path}?synchronous={sync}", appends, text)
    work = prepared(store, appends)
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={sync}")
    gc.collect()
    t0 = time.perf_counter()
    for update, u, insert, e in work:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(update, u)
        conn.execute(insert, e)
        conn.execute("COMMIT")
    rate = len(work) / (time.perf_counter() - t0)
    conn.close()
    return rate


def run_raw_same_pg(url: str, appends: Any, text: str) -> float:
    """psycopg on one connection: UPDATE + INSERT + COMMIT per fire, the store's SQL."""
    store = prepare_same(url, appends, text)
    work = prepared(store, appends)
    store.close()
    engine = open_engine(url)
    raw = engine.raw_connection()
    conn = raw.driver_connection
    gc.collect()
    t0 = time.perf_counter()
    for update, u, insert, e in work:
        conn.execute(update, u)
        conn.execute(insert, e)
        conn.commit()
    rate = len(work) / (time.perf_counter() - t0)
    raw.close()
    engine.dispose()
    return rate


def run_raw_peer(path: Path, n: int) -> float:
    """shared/peer-bench bench_persist.py's `raw_wal_full_update` loop, verbatim schema."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(PEER_DDL)
    conn.executemany("INSERT INTO cases VALUES (?, 'registered', 0)", [(i,) for i in range(n)])
    payload = json.dumps({"actor": "clerk-1", "at": "2026-11-22T10:00:00+08:00",
                          "note": "受理登记", "in_jurisdiction": True}, ensure_ascii=False)
    rows = [(i, 1, "triage", "registered", "triaged", payload, 1.0 + i) for i in range(n)]
    gc.collect()
    t0 = time.perf_counter()
    for r in rows:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO events (case_id, seq, trigger, from_state, to_state, "
                     "payload, ts) VALUES (?, ?, ?, ?, ?, ?, ?)", r)
        conn.execute("UPDATE cases SET state = ?, seq = ? WHERE id = ?", (r[4], r[1], r[0]))
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    conn.close()
    return rate


PEER_DDL = """
CREATE TABLE events (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  trigger TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL,
  payload TEXT NOT NULL, ts REAL NOT NULL, UNIQUE (case_id, seq));
CREATE TABLE cases (id INTEGER PRIMARY KEY, state TEXT NOT NULL, seq INTEGER NOT NULL);
"""


# ---------------------------------------------------------------------- rounds
def variants(folder: Path, cases: int, pg: Any) -> dict[str, Callable[[], float]]:
    appends, text = record(cases)
    n = len(same_rows(appends))

    def db(name: str) -> Path:
        path = folder / f"{name}.db"
        remove_sqlite(path)
        return path

    out: dict[str, Callable[[], float]] = {
        "raw peer rows, FULL": lambda: run_raw_peer(db("peer"), n),
        "raw same rows, FULL": lambda: run_raw_same_sqlite(db("same"), "FULL", appends, text),
        "engine, FULL": lambda: run_engine(f"sqlite:///{db('engine')}", cases),
        "raw same rows, NORMAL": lambda: run_raw_same_sqlite(db("same_n"), "NORMAL", appends,
                                                             text),
        "engine, NORMAL": lambda: run_engine(f"sqlite:///{db('engine_n')}?synchronous=normal",
                                             cases),
        "engine, in memory": lambda: run_engine(None, cases),
    }
    if pg is not None:
        out["PostgreSQL raw same rows"] = lambda: run_raw_same_pg(pg.fresh_url(), appends, text)
        out["PostgreSQL engine"] = lambda: run_engine(pg.fresh_url(), cases)
    return out


RATIOS = [("engine, FULL", "raw peer rows, FULL", "≥ 0.5 (pinned target)"),
          ("engine, FULL", "raw same rows, FULL", ""),
          ("raw same rows, FULL", "raw peer rows, FULL", "what our rows cost SQLite"),
          ("engine, NORMAL", "raw same rows, NORMAL", "CPU bound: no flush per commit"),
          ("PostgreSQL engine", "PostgreSQL raw same rows", "")]


def run_rounds(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    names = list(runs)
    results: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            results[name].append(runs[name]())
            print(f"round {r + 1} {name:28s} {results[name][-1]:10,.0f} fires/s", flush=True)
    return results


def ratio(results: dict[str, list[float]], a: str, b: str) -> float | None:
    if a not in results or b not in results:
        return None
    return statistics.median(x / y for x, y in zip(results[a], results[b], strict=True))


def report(results: dict[str, list[float]], info: dict[str, Any], args: Any) -> str:
    lines = ["## Durable fires (bench_persist.py)", "",
             f"`python bench/bench_persist.py --cases {args.cases} --rounds {args.rounds}`: "
             f"{len(fires_of(args.cases)):,} fires per loop, {args.rounds} rounds, order "
             "rotated each round; medians [min–max]; ratios are medians of per-round ratios.",
             "", machine_table(info), "| loop | fires/s | µs/fire |", "|---|---:|---:|"]
    for name, values in results.items():
        med = statistics.median(values)
        lines.append(f"| {name} | {_range(values)} | {1e6 / med:,.0f} |")
    lines += ["", "| ratio | value | note |", "|---|---:|---|"]
    for a, b, note in RATIOS:
        value = ratio(results, a, b)
        if value is not None:
            lines.append(f"| {a} / {b} | {value:.2f}× | {note} |")
    return "\n".join(lines) + "\n"


def _range(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} [{min(values):,.0f}–{max(values):,.0f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--profile", action="store_true",
                        help="profile one engine FULL loop (cProfile) and stop")
    parser.add_argument("--dir", type=Path, default=None, help="where the database files go")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS-store.md")
    args = parser.parse_args()
    os.environ["FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no console plugin printing
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        if args.profile:
            run_engine(f"sqlite:///{folder / 'p.db'}", args.cases, profile=True)
            return
        info = machine(folder)
        with postgres(durable=True) if not args.no_pg else nullcontext() as pg:
            info["postgresql"] = "durable server (fsync on), loopback" if pg else "not run"
            results = run_rounds(variants(folder, args.cases, pg), args.rounds)
    text = report(results, info, args)
    print(text)
    if not args.no_write:
        write_section("persist", text)


if __name__ == "__main__":
    main()
