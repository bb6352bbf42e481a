"""K processes committing raw sqlite3 rows on one file: FULL against the store's write lock
and WAL flush outside it (store/flush.py), side by side in each round.

    python bench/bench_wal_flush.py [--k 1 8] [--commits 4000] [--rounds 3]

Each commit is one 300-byte INSERT in `BEGIN IMMEDIATE` ... `COMMIT`, durable when the loop
moves on: at FULL by SQLite's own flush inside the COMMIT; with `WalFlush` at NORMAL under
its lock file, then `WalFlush.flush()` after releasing it. Aggregate commits/s = all commits
/ wall time from the first to the last. It isolates the store side of group commit across
processes from the engine's CPU per fire (bench_group_commit.py measures the engine).
Prints a table; results go to RESULTS-store.md by hand, with the load beside them.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowengine.store.flush import WalFlush  # noqa: E402 - after the checkout's path

MODES = ("FULL", "write lock + flush outside it")


def _child(path: str, mode: str, n: int, go: Any, out: Any) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA synchronous=" + ("FULL" if mode == MODES[0] else "NORMAL"))
    flush = WalFlush(path) if mode != MODES[0] else None
    go.wait()
    t0 = time.time()
    for _ in range(n):
        if flush is not None:
            flush.lock()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", ("x" * 300,))
        conn.execute("COMMIT")
        if flush is not None:
            flush.unlock()
            flush.flush()
    out.put((t0, time.time(), n))


def run(folder: Path, mode: str, k: int, commits: int) -> float:
    path = str(folder / f"{mode[:4]}-{k}.db")
    for suffix in ("", "-wal", "-shm", "-fewrite"):
        Path(path + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.close()
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(path, mode, commits // k, go, out))
             for _ in range(k)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # every child connected and waiting
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return sum(r[2] for r in results) / (max(r[1] for r in results) - min(r[0] for r in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--commits", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    print("| K processes | mode | commits/s (median [min–max]) | × FULL (median of rounds) |")
    print("|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.k:
            rates: dict[str, list[float]] = {m: [] for m in MODES}
            for _ in range(args.rounds):
                for mode in MODES:
                    rates[mode].append(run(Path(tmp), mode, k, args.commits))
            for mode in MODES:
                ratio = statistics.median(a / b for a, b in zip(rates[mode], rates[MODES[0]],
                                                                  strict=True))
                v = rates[mode]
                print(f"| {k} | {mode} | {statistics.median(v):,.0f} [{min(v):,.0f}–"
                      f"{max(v):,.0f}] | {ratio:.2f}× |")
    print(f"load after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
