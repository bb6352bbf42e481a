"""The WAL flush outside the write lock (store/flush.py) on real files and real processes:
the lock lets one writer of any process write at a time; every append returns only after a
flush that began after it was written; `SqlStore(group_commit=True)` on a SQLite file
commits at NORMAL under it while its other connections stay at FULL; a failed flush reaches
every append of the batch."""

from __future__ import annotations

import fcntl
import itertools
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowengine.store import sql as sql_module
from flowengine.store.errors import FlushFailed
from flowengine.store.flush import WalFlush
from flowengine.store.sql import SqlStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A SQLite file in WAL mode, kept open (so its WAL stays) while the test runs."""
    path = str(tmp_path / "cases.db")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    yield path
    conn.close()


def test_one_writer_at_a_time_and_every_append_flushed_across_processes(
        tmp_path: Path, database: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    logs = [tmp_path / f"log{i}" for i in range(3)]
    children = [subprocess.Popen([sys.executable, str(HERE / "flush_child.py"), database,
                                  str(log), "150"], env=env) for log in logs]
    for child in children:
        assert child.wait(120) == 0
    lines: dict[str, list[tuple[int, ...]]] = {"L": [], "W": [], "F": []}
    for log in logs:
        for line in log.read_text().splitlines():
            kind, *values = line.split()
            lines[kind].append(tuple(map(int, values)))
    held = sorted(lines["L"], key=lambda h: h[1])  # (size before, locked, unlocked)
    assert len(held) == 3 * 2 * 150
    overlaps = [(a, b) for a, b in itertools.pairwise(held) if b[1] < a[2]]
    assert not overlaps, f"{len(overlaps)} writes overlapped another's: {overlaps[:3]}"
    flushes = lines["F"]
    uncovered = [
        (end, written, returned) for end, written, returned in lines["W"]
        if not any(size >= end and begun >= written and ended <= returned
                   for size, begun, ended in flushes)]
    assert not uncovered, f"{len(uncovered)} appends returned before a covering flush"


def test_a_forked_child_takes_its_own_lock(database: str) -> None:
    """An `flock` belongs to the open file, which a fork shares: the child must open its
    own, or it would write while the parent holds the lock."""
    flush = WalFlush(database)
    with flush.writing():
        pid = os.fork()
        if pid == 0:  # the child: the lock must be taken (by the parent)
            code = 1
            try:
                flush._reopen()
                fcntl.flock(flush._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    flush.close()


def _synchronous(cur: Any) -> int:
    cur.execute("PRAGMA synchronous")
    return int(cur.fetchall()[0][0])


def test_group_commit_writes_at_normal_and_flushes_after_and_the_rest_stays_at_full(
        tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'cases.db'}", group_commit=True)
    try:
        assert store._held.flush is not None
        with store._held.write() as cur:
            assert _synchronous(cur) == 1  # NORMAL: the flush after the COMMIT makes it durable
        assert store._held.flush.flushes == 1
        with store.engine.connect() as conn:  # every other statement: FULL, as configured
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        store.close()
    for url, outside in ((f"sqlite:///{tmp_path / 'n.db'}?synchronous=normal", False),
                         ("sqlite://", False), (f"sqlite:///{tmp_path / 'f.db'}", True)):
        store = SqlStore(url, group_commit=True)
        assert (store._held.flush is not None) == outside, url
        store.close()
    plain = SqlStore(f"sqlite:///{tmp_path / 'p.db'}")
    assert plain._held.flush is None
    plain.close()


def test_the_wal_stays_the_same_file_while_the_flush_lives(tmp_path: Path) -> None:
    """The descriptor held open must always name the database's WAL: with every other
    connection closed the pin keeps SQLite from deleting it (and making a new file)."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    store = SqlStore(url, group_commit=True)
    flush = store._held.flush
    assert flush is not None
    wal = str(tmp_path / "cases.db-wal")
    inode = os.stat(wal).st_ino
    store._held.flush = None  # the store lets go of every connection; the flush lives on
    store.close()
    other = sqlite3.connect(str(tmp_path / "cases.db"))
    other.execute("CREATE TABLE more (x INTEGER)")
    other.commit()
    other.close()
    assert os.stat(wal).st_ino == inode == os.fstat(flush._wal_fd).st_ino
    flush.close()


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


@pytest.mark.parametrize("error", [PermissionError(13, "Permission denied"),
                                   sqlite3.OperationalError("database is locked")],
                         ids=["lock file", "pin"])
def test_a_flush_that_cannot_be_set_up_leaves_each_commit_flushing_under_the_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The lock file cannot be made (a read-only folder), or the pin cannot read the
    database (another program locked it for longer than the pin waits): the store still
    opens, with group commit, and each COMMIT flushes under SQLite's lock at FULL."""
    def cannot(database: str) -> WalFlush:
        raise error

    monkeypatch.setattr(sql_module, "WalFlush", cannot)
    store = SqlStore(f"sqlite:///{tmp_path / 'cases.db'}", group_commit=True)
    try:
        assert store.group is not None and store._held.flush is None
        with store.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER PRIMARY KEY)")
        store.group.run(lambda cur: cur.execute("INSERT INTO scratch VALUES (1)"))
        with store._held.write() as cur:
            cur.execute("PRAGMA synchronous")
            assert cur.fetchone()[0] == 2
        with store.engine.connect() as conn:
            assert [r[0] for r in conn.exec_driver_sql("SELECT x FROM scratch")] == [1]
    finally:
        store.close()
