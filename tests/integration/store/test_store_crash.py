"""Crash safety on SQLite: a child process firing in a loop is SIGKILLed (three times, each
time restarted on the same file) and the file must be consistent afterwards.

Consistent means what an auditor relies on: SQLite's own integrity check passes; every
case's events are numbered 1..n without a gap; the projection's seq and last hash are those
of its last event and its timer column matches its deadlines; every event's hash covers its
stored body and links to the previous one; every notification of every event has its outbox
row and no outbox row exists without its event. One transaction per append is what makes
this hold; the test proves it on a real kill, not a simulated one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC
from pathlib import Path
from typing import IO, cast

import pytest
from sqlalchemy import create_engine

from flowengine.records.events import GENESIS, chain_hash
from flowengine.store.sql import SqlStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KILLS = 3


def run_and_kill(url: str, start_day: int, progress: Path, at_events: int) -> int:
    """Start the child, wait until it wrote `at_events` more events, SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    env["FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    progress.write_text("0")
    child = subprocess.Popen(
        [sys.executable, str(HERE / "crash_child.py"), url, str(ROOT / "processes"),
         str(start_day), str(progress)], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while _written(progress) < at_events:
            if child.poll() is not None:
                raise AssertionError(f"the child stopped by itself: {cast(IO[bytes], child.stderr).read()!r}")
            if time.monotonic() > deadline:
                raise AssertionError("the child made no progress in 60 s")
            time.sleep(0.01)
        time.sleep(start_day % 7 / 300)  # land at a different point each time
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return _written(progress)


def _written(progress: Path) -> int:
    try:
        return int(progress.read_text() or 0)
    except ValueError:  # caught mid-write
        return 0


def test_sigkill_mid_append_leaves_a_consistent_file(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    url = f"sqlite:///{path}"
    SqlStore(url).close()  # schema first, so the child's first commit is a case
    for run in range(KILLS):
        run_and_kill(url, start_day=60 * run, progress=tmp_path / "progress",
                     at_events=60 + 25 * run)
    store = SqlStore(url)
    try:
        counts = check_store(store)
    finally:
        store.close()
    assert counts["cases"] >= 10 and counts["timers"] > 0 and counts["outbox"] > 0


def check_store(store: SqlStore) -> dict[str, int]:
    raw = create_engine(store.url)
    with raw.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        rows = conn.exec_driver_sql(
            "SELECT case_id, seq, body, hash, prev_hash FROM events ORDER BY case_id, seq").all()
        projection = {r[0]: r[1:] for r in conn.exec_driver_sql(
            "SELECT id, seq, last_hash, next_timer_at FROM cases").all()}
        outbox = {r[0]: (r[1], r[2]) for r in conn.exec_driver_sql(
            "SELECT id, case_id, seq FROM outbox").all()}
    raw.dispose()
    by_case: dict[str, list[tuple[int, str, str, str]]] = defaultdict(list)
    for case_id, seq, body, hash_, prev in rows:
        by_case[case_id].append((seq, body, hash_, prev))
    assert set(by_case) == set(projection), "a case row without events, or the reverse"
    wanted = set()
    for case_id, history in by_case.items():
        wanted |= check_case(store, case_id, history, projection[case_id])
    assert set(outbox) == wanted, "an outbox row without its event, or an event without its rows"
    timers = sum(1 for _, body, _, _ in (e for h in by_case.values() for e in h)
                 if json.loads(body)["type"] == "timer")
    return {"cases": len(by_case), "timers": timers, "outbox": len(outbox)}


def check_case(store: SqlStore, case_id: str, history: list[tuple[int, str, str, str]],
               projection: tuple[int, str, str | None]) -> set[str]:
    assert [seq for seq, *_ in history] == list(range(1, len(history) + 1)), case_id
    prev = GENESIS
    notes: set[str] = set()
    for seq, body, hash_, prev_hash in history:
        doc = json.loads(body)
        assert (doc["seq"], doc["prev_hash"], prev_hash) == (seq, prev, prev), (case_id, seq)
        assert chain_hash(doc) == hash_, (case_id, seq)
        notes |= {f"{n['id']}:crash" for n in doc["notifications"]}
        prev = hash_
    seq, last_hash, next_timer_at = projection
    assert (seq, last_hash) == (len(history), prev), case_id
    case = store.load_case(case_id)
    assert case is not None and case.seq == seq
    timer = case.next_timer()
    assert next_timer_at == (timer.astimezone(UTC).isoformat(timespec="microseconds")
                             if timer else None), case_id  # no stale or missing timer
    return notes


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
