"""A checkpoint over 1,000,000 events: sequencing the new events and computing the Merkle
root (RFC 9162) of the whole log, on a SQLite file. The rows are written straight into
`events` (a leaf needs only case id, seq, recorded time and hash), 8 events per case, so
the benchmark measures the checkpoint, not the engine. Usage:

    PYTHONPATH=. python3 bench/bench_checkpoint.py [EVENTS] [FILE]

A fire is not measured here: it writes no log index (the sequencer runs at checkpoint
time) and its INSERT gains one column (recorded_at) set by the database's clock.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import tempfile
import time

from flowengine.audit.checkpoint import take
from flowengine.store.sql import SqlStore


def fill(path: str, n: int) -> None:
    SqlStore(f"sqlite:///{path}").close()  # the schema
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO definitions (digest, process_id, version, text) "
                    "VALUES ('d', 'p', '1', '')")
        rows = []
        for i in range(n):
            case, seq = f"C{i // 8:016d}", i % 8 + 1
            h = hashlib.sha256(f"{case}:{seq}".encode()).hexdigest()
            rows.append((case, seq, "2026-03-02T01:00:00.000000+00:00", "fired", "x", "p",
                         "d", "{}", "0" * 64, h, "2026-12-03T01:00:00.000000+00:00"))
        con.executemany(
            "INSERT INTO events (case_id, seq, at, type, actor_name, process_id, digest, "
            "body, prev_hash, hash, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tempfile.mkdtemp(), "log.db")
    t0 = time.perf_counter()
    fill(path, n)
    t1 = time.perf_counter()
    store = SqlStore(f"sqlite:///{path}")
    first = take(store, None)
    t2 = time.perf_counter()
    second = take(store, None)  # nothing new to sequence: the root pass alone
    t3 = time.perf_counter()
    store.close()
    assert first.size == second.size == n and first.root == second.root
    print(f"{n} events: fill {t1 - t0:.1f} s; first checkpoint (sequence + root) "
          f"{t2 - t1:.1f} s; next checkpoint (root only) {t3 - t2:.1f} s; "
          f"{len(first.text()) / 1e6:.1f} MB of checkpoint text ({len(first.heads)} heads)")


if __name__ == "__main__":
    main()
