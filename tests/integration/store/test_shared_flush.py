"""The shared flush (store/flush.py) on real files and real processes: an append returns
only after a flush that began after it was written; writers waiting together share one
flush; `SqlStore(group_commit=True)` on a SQLite file commits at NORMAL under it while its
other connections stay at FULL; a failed flush reaches every append of the batch."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from flowengine.store.flush import FlushFailed, SharedFlush
from flowengine.store.sql import SqlStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def test_every_append_returns_after_a_flush_that_covers_it_across_processes(
        tmp_path: Path) -> None:
    database = str(tmp_path / "cases.db")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    logs = [tmp_path / f"log{i}" for i in range(3)]
    children = [subprocess.Popen([sys.executable, str(HERE / "flush_child.py"), database,
                                  str(log), "150"], env=env) for log in logs]
    for child in children:
        assert child.wait(120) == 0
    appends: list[tuple[int, ...]] = []
    flushes: list[tuple[int, ...]] = []
    for log in logs:
        for line in log.read_text().splitlines():
            kind, *values = line.split()
            (appends if kind == "W" else flushes).append(tuple(map(int, values)))
    assert len(appends) == 3 * 2 * 150
    flushes.sort(key=lambda f: f[2])  # by when they ended
    uncovered = [
        (end, written, returned) for end, written, returned in appends
        if not any(size >= end and begun >= written and ended <= returned
                   for size, begun, ended in flushes)]
    assert not uncovered, f"{len(uncovered)} appends returned before a covering flush"
    assert len(flushes) <= len(appends)


def test_writers_that_wait_together_share_one_flush(tmp_path: Path) -> None:
    """A flushes; B and C commit during its flush, so it cannot cover them: the first of
    them to get the lock flushes again, and that flush covers the other."""
    flush = SharedFlush(str(tmp_path / "cases.db"))
    (tmp_path / "cases.db-wal").write_bytes(b"frames")
    first_begun, release = threading.Event(), threading.Event()
    flush_of = flush._flush

    def slow_first_flush() -> None:
        if not first_begun.is_set():
            first_begun.set()
            assert release.wait(30)
        flush_of()

    flush._flush = slow_first_flush  # type: ignore[method-assign]
    threads = [threading.Thread(target=flush.durable)]
    threads[0].start()
    assert first_begun.wait(30)
    for _ in range(2):  # B and C: committed after the first flush began
        threads.append(threading.Thread(target=flush.durable))
        threads[-1].start()
    while flush.waits < 3:
        threading.Event().wait(0.001)
    release.set()
    for t in threads:
        t.join(30)
    assert (flush.waits, flush.flushes) == (3, 2)
    assert flush.begun() == 2
    flush.close()


def test_a_lost_counter_file_costs_a_flush_not_durability(tmp_path: Path) -> None:
    database = str(tmp_path / "cases.db")
    (tmp_path / "cases.db-wal").write_bytes(b"frames")
    flush = SharedFlush(database)
    flush.durable()
    os.remove(database + "-feflush")  # another process will start from a fresh file
    other = SharedFlush(database)
    other.durable()  # its counters say nothing flushed: it flushes itself
    assert (flush.flushes, other.flushes) == (1, 1)
    flush.close()
    other.close()


def _synchronous(cur: Any) -> int:
    cur.execute("PRAGMA synchronous")
    return int(cur.fetchall()[0][0])


def test_group_commit_writes_at_normal_under_the_shared_flush_and_the_rest_at_full(
        tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'cases.db'}", group_commit=True)
    try:
        assert store._held.flush is not None
        with store._held.write() as cur:
            assert _synchronous(cur) == 1  # NORMAL: the shared flush makes it durable
        assert store._held.flush.flushes == 1
        with store.engine.connect() as conn:  # every other statement: FULL, as configured
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        store.close()
    for url, shared in ((f"sqlite:///{tmp_path / 'n.db'}?synchronous=normal", False),
                        ("sqlite://", False), (f"sqlite:///{tmp_path / 'f.db'}", True)):
        store = SqlStore(url, group_commit=True)
        assert (store._held.flush is not None) == shared, url
        store.close()
    plain = SqlStore(f"sqlite:///{tmp_path / 'p.db'}")
    assert plain._held.flush is None
    plain.close()


def test_connections_go_back_to_the_pool_at_full(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'cases.db'}", group_commit=True)
    try:
        with store._held.write() as cur:
            cur.execute("SELECT 1")
        store._held.close()  # the kept connection goes back to the pool
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        store.close()


def test_a_failed_flush_reaches_every_append_of_the_batch(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit is visible but not known durable: each append of the batch raises
    `FlushFailed`, and the store goes on working once the disk does."""
    store = SqlStore(f"sqlite:///{tmp_path / 'cases.db'}", group_commit=True)
    try:
        assert store.group is not None
        with store.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER PRIMARY KEY)")

        def broken(fd: int) -> None:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(os, "fdatasync", broken)
        with pytest.raises(FlushFailed, match="may not survive a crash"):
            store.group.run(lambda cur: cur.execute("INSERT INTO scratch VALUES (1)"))
        monkeypatch.undo()
        store.group.run(lambda cur: cur.execute("INSERT INTO scratch VALUES (2)"))
        with store.engine.connect() as conn:
            assert [r[0] for r in conn.exec_driver_sql("SELECT x FROM scratch")] == [1, 2]
    finally:
        store.close()
