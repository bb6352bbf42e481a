"""A checkpoint over 1,000,000 events: sequencing the new events and computing the Merkle
root (RFC 9162) of the whole log, on a SQLite file. The rows are written straight into
`events` (a leaf needs only case id, seq, recorded time and hash), 8 events per case, so
the benchmark measures the checkpoint, not the engine. Usage:

    PYTHONPATH=. python3 bench/bench_checkpoint.py [EVENTS] [FILE] [OUTBOX_ROWS_PER_CASE]

With OUTBOX_ROWS_PER_CASE (e.g. 4: two notices to two channels, at events 2 and 8) the
store also gets outbox rows, which a checkpoint of format 3 covers, and the time of
`check` (what `audit verify --checkpoint` does) is printed as well. Run from another
checkout (`cd /tmp/base && PYTHONPATH=. python3 /path/to/this/script …`) to time that
checkout's code on the same kind of store.

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

from flowengine.audit.checkpoint import check, take
from flowengine.store.sql import SqlStore

PAYLOAD = ('{"channel":null,"id":"%s:%d:0","kind":"acceptance_letter","messages":{"zh":"'
           + "您反映的问题已受理，我们将在六十日内办结并书面答复。" * 6 + '"},"to":["petitioner"]}')


def fill_outbox(path: str, n: int, per_case: int) -> None:
    """`per_case` rows per case (no case records: sqlite3 does not enforce the foreign
    key here, and the checkpoint reads only events and outbox)."""
    con = sqlite3.connect(path)
    with con:
        rows = []
        for c in range(n // 8):
            case = f"C{c:016d}"
            for r in range(per_case):
                seq = 2 if r < per_case // 2 else 8
                channel = f"ch{r % 2}"
                rows.append((f"{case}:{seq}:0:{channel}", case, seq, channel,
                             "2026-03-03T01:00:00.000000+00:00", PAYLOAD % (case, seq),
                             "pending", 0, "2026-03-03T01:00:00.000000+00:00"))
        con.executemany("INSERT INTO outbox (id, case_id, seq, channel, created_at, payload, "
                        "status, attempts, due_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    con.close()


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
    per_case = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    t0 = time.perf_counter()
    fill(path, n)
    if per_case:
        fill_outbox(path, n, per_case)
    t1 = time.perf_counter()
    store = SqlStore(f"sqlite:///{path}")
    first = take(store, None)
    t2 = time.perf_counter()
    second = take(store, None)  # nothing new to sequence: the root pass alone
    t3 = time.perf_counter()
    findings = check(store, second)
    t4 = time.perf_counter()
    store.close()
    assert first.size == second.size == n and first.root == second.root and not findings
    print(f"{n} events, {per_case * (n // 8)} outbox rows: fill {t1 - t0:.1f} s; first "
          f"checkpoint (sequence + root) {t2 - t1:.1f} s; next checkpoint (root only) "
          f"{t3 - t2:.1f} s; check {t4 - t3:.1f} s; {len(first.text()) / 1e6:.1f} MB of "
          f"checkpoint text ({len(first.heads)} heads)")


if __name__ == "__main__":
    main()
