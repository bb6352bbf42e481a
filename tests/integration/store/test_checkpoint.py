"""The tick's checkpoints (store/checkpoint.py): on a SQLite file the WAL is copied back
into the database by a thread of the store's own after each of the tick's transactions,
instead of inside the tick's COMMITs; the thread stops with the store."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from test_store_engine import PROCESSES, START, to_mediation

from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.store.checkpoint import Checkpointer
from flowengine.store.sql import SqlStore


def _until(check: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not cast(bool, check()):  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within ten seconds"
        time.sleep(0.01)


def _due(db_url: str, n: int) -> datetime:
    """`n` cases in mediation; an instant after all their timers fell due."""
    setup = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(START))
    ids = [to_mediation(setup) for _ in range(n)]
    now = max(cast(datetime, setup.case(i).deadlines["mediation"].due) for i in ids)
    setup.store.close()  # type: ignore[attr-defined]
    return now + timedelta(days=1)


def test_a_checkpoint_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the thread copies anything back
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1), (2)")
    checkpointer = Checkpointer(str(path))
    try:
        checkpointer.nudge()
        _until(lambda: checkpointer.ran == 1)
        # the database file alone (`immutable`: the WAL is not read) has the rows now
        alone = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        assert alone.execute("SELECT count(*) FROM t").fetchone() == (2,)
        alone.close()
    finally:
        checkpointer.close()
        conn.close()
    assert checkpointer._thread is not None and not checkpointer._thread.is_alive()
    checkpointer.nudge()  # closed: nothing more
    assert checkpointer.ran == 1


def test_a_file_that_is_gone_is_not_made_again(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    checkpointer = Checkpointer("gone.db")  # relative: the directory it was named in
    monkeypatch.chdir(tmp_path.parent)
    checkpointer.nudge()
    assert checkpointer._thread is not None
    checkpointer._thread.join(10)
    assert not checkpointer._thread.is_alive() and checkpointer.ran == 0
    assert not (tmp_path / "gone.db").exists() and not (tmp_path.parent / "gone.db").exists()
    checkpointer.close()


def test_the_tick_has_the_wal_copied_back_by_the_thread_and_close_stops_it(
        db_url: str) -> None:
    now = _due(db_url, 4)
    store = SqlStore(db_url)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    assert len(engine.tick()) == 8
    checkpointer = store.checkpointer
    if db_url.startswith("postgresql"):
        assert checkpointer is None  # the server checkpoints
        store.close()
        return
    assert checkpointer is not None
    _until(lambda: checkpointer.ran >= 1)
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    store.close()
    assert not thread.is_alive()


def test_a_store_that_does_not_tick_starts_no_thread(db_url: str) -> None:
    store = SqlStore(db_url)
    if store.checkpointer is not None:
        assert store.checkpointer._thread is None
    store.close()


def test_a_read_only_store_has_no_checkpointer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    SqlStore(url).close()
    reader = SqlStore(url, read_only=True)
    assert reader.checkpointer is None
    reader.close()
