"""The tick's flushes (store/behind.py): on a SQLite file at `synchronous=FULL` the tick's
transactions commit without waiting for the disk and a thread of the store's own flushes
the WAL behind them; the tick tells nobody about a case before the flush that covers its
transaction has ended, a failed flush fails the tick, and every other write of the store
still flushes in its COMMIT."""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from test_store_engine import PROCESSES, START, to_mediation

from flowengine.clock import SimulatedClock
from flowengine.engine import engine as engine_module
from flowengine.engine.engine import Engine
from flowengine.records.events import Event
from flowengine.store.behind import FlushBehind
from flowengine.store.errors import FlushFailed
from flowengine.store.flush import WalFlush
from flowengine.store.sql import SqlStore


def _due(db_url: str, n: int) -> tuple[list[str], datetime]:
    """`n` cases in mediation; an instant after all their timers fell due."""
    setup = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(START))
    ids = [to_mediation(setup) for _ in range(n)]
    now = max(cast(datetime, setup.case(i).deadlines["mediation"].due) for i in ids)
    setup.store.close()  # type: ignore[attr-defined]
    return ids, now + timedelta(days=1)


class SlowFlushes:
    """`WalFlush.flush` made slow (so a tick that told anyone before its flush ended would
    be seen doing it), counting the flushes that ended and the COMMITs made before each
    began."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> None:
        self.ended = 0
        self.covered = 0  # COMMITs of relaxed transactions a finished flush covers
        self.commits = 0
        real_flush = WalFlush.flush
        real_write = SqlStore._transaction
        slow = self

        def flush(wal: WalFlush) -> None:
            began = slow.commits
            time.sleep(0.05)
            if fail:
                raise OSError(5, "Input/output error")
            real_flush(wal)
            slow.ended += 1
            slow.covered = max(slow.covered, began)

        def transaction(store: SqlStore, relaxed: bool) -> Any:
            inner = real_write(store, relaxed)

            class Counted:
                def __enter__(self) -> Any:
                    return inner.__enter__()

                def __exit__(self, *exc: Any) -> Any:
                    out = inner.__exit__(*exc)
                    if relaxed and exc[0] is None:
                        slow.commits += 1
                    return out

            return Counted()

        monkeypatch.setattr(WalFlush, "flush", flush)
        monkeypatch.setattr(SqlStore, "_transaction", transaction)


def test_the_tick_tells_about_a_case_only_once_its_transaction_is_flushed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "TICK_GROUP", 2)  # several rounds
    ids, now = _due(f"sqlite:///{tmp_path / 'store.db'}", 7)
    slow = SlowFlushes(monkeypatch)
    engine = Engine(db=f"sqlite:///{tmp_path / 'store.db'}", processes=[PROCESSES],
                    clock=SimulatedClock(now))
    told: list[tuple[int, int]] = []  # (COMMITs made, COMMITs a finished flush covers)

    def listener(events: Sequence[Event], case: Any) -> None:
        told.append((slow.commits, slow.covered))

    engine.subscribe(listener)
    fired = engine.tick()
    assert sorted({e.case_id for e in fired}) == sorted(ids) and len(fired) == 14
    assert slow.commits >= 3 and len(told) == 7  # several transactions, each case told once
    # every case was told about after a flush that began after every COMMIT made so far
    assert all(covered == commits for commits, covered in told)
    store = cast(SqlStore, engine.store)
    with store._held.cursor() as cur:  # the store's connections are back at FULL
        assert cur.execute("PRAGMA synchronous").fetchone()[0] == 2
    store.close()


def test_a_flush_that_fails_fails_the_tick_and_nobody_is_told_of_what_it_covered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "TICK_GROUP", 2)
    _, now = _due(f"sqlite:///{tmp_path / 'store.db'}", 5)
    SlowFlushes(monkeypatch, fail=True)
    engine = Engine(db=f"sqlite:///{tmp_path / 'store.db'}", processes=[PROCESSES],
                    clock=SimulatedClock(now))
    told: list[str] = []
    engine.subscribe(lambda events, case: told.append(case.id))
    with pytest.raises(FlushFailed, match="Input/output error"):
        engine.tick()
    assert told == []
    engine.store.close()  # type: ignore[attr-defined]


def test_other_writes_of_the_store_still_flush_in_their_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the tick's transactions are flushed behind: a fire, a start and a durable
    `append_many` neither wait for the thread nor start it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _, now = _due(url, 2)
    engine = Engine(db=url, processes=[PROCESSES], clock=SimulatedClock(now))
    store = cast(SqlStore, engine.store)
    synchronous: list[int] = []
    real = store._held.write

    def write(*args: Any, **kwargs: Any) -> Any:
        with real(*args, **kwargs) as cur:
            synchronous.append(cur.execute("PRAGMA synchronous").fetchone()[0])
            yield cur

    monkeypatch.setattr(store._held, "write", __import__("contextlib").contextmanager(write))
    to_mediation(engine)
    assert store._behind is None and set(synchronous) == {2}  # FULL: flushed in the COMMIT
    engine.tick()
    assert store._behind is not None and 1 in synchronous  # the tick's: NORMAL
    store.close()


def test_a_store_that_cannot_flush_behind_commits_durably(db_url: str) -> None:
    """PostgreSQL (its COMMIT flushes), a level set in the URL: `durable=False` changes
    nothing; `flushed` returns at once."""
    url = db_url if "postgresql" in db_url else db_url + "?synchronous=extra"
    _, now = _due(url, 3)
    engine = Engine(db=url, processes=[PROCESSES], clock=SimulatedClock(now))
    store = cast(SqlStore, engine.store)
    assert len(engine.tick()) == 6
    assert store._behind is None
    store.flushed()
    store.close()


def test_the_flush_thread_serves_requests_in_order_and_stops_with_close() -> None:
    began = threading.Event()
    release = threading.Event()
    flushes: list[int] = []

    def flush() -> None:
        began.set()
        release.wait(10)
        flushes.append(len(flushes))

    behind = FlushBehind(flush)
    behind.request()
    assert began.wait(10)  # the first flush runs; two more requests come meanwhile
    behind.request()
    behind.request()
    waiter = threading.Thread(target=behind.wait)
    waiter.start()
    time.sleep(0.05)
    assert waiter.is_alive()  # waits for a flush begun after the last request
    release.set()
    waiter.join(10)
    assert not waiter.is_alive()
    assert flushes == [0, 1]  # one flush more served both requests made during the first
    behind.request()
    behind.close()  # flushes what was asked, then stops
    assert flushes == [0, 1, 2] and behind._thread is not None
    assert not behind._thread.is_alive()
    with pytest.raises(FlushFailed, match="closed"):
        behind.request()


def test_a_failed_flush_is_raised_to_the_waiter_once() -> None:
    calls = []

    def flush() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")

    behind = FlushBehind(flush)
    behind.request()
    with pytest.raises(FlushFailed, match="No space left"):
        behind.wait()
    behind.request()
    behind.wait()  # the next flush succeeded
    assert behind.flushes == 1
    behind.close()


def test_with_group_commit_the_tick_uses_its_flush_and_close_ends_the_thread_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Group commit's `WalFlush` serves the tick's flushes too (no second one is made), so
    `close` stops the flush thread, which may still be flushing with it, before closing it."""
    url = f"sqlite:///{tmp_path / 'store.db'}?group_commit=true"
    _, now = _due(url, 3)
    engine = Engine(db=url, processes=[PROCESSES], clock=SimulatedClock(now))
    store = cast(SqlStore, engine.store)
    assert len(engine.tick()) == 6
    assert store._behind is not None and store._behind_wal is None
    assert store._held.flush is not None
    closed: list[str] = []
    for name, obj in (("thread", store._behind), ("wal", store._held.flush)):
        def close(real: Any = obj.close, name: str = name) -> None:
            closed.append(name)
            real()

        monkeypatch.setattr(obj, "close", close)
    store.close()
    assert closed == ["thread", "wal"]


def test_a_forked_child_flushes_with_a_thread_of_its_own(tmp_path: Path) -> None:
    """A child forked after the parent's flush thread started has no such thread (a fork
    copies only the forking thread): its first request starts its own, its `wait` returns,
    and the parent's thread goes on serving the parent."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _, now = _due(url, 4)
    engine = Engine(db=url, processes=[PROCESSES], clock=SimulatedClock(now))
    store = cast(SqlStore, engine.store)
    behind = store._flusher()
    assert behind is not None
    behind.request()
    behind.wait()
    parent_thread, flushed = behind._thread, behind.flushes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: its own thread, its own flushes
        ok = False
        try:
            behind.request()
            behind.wait()
            ok = behind._thread is not parent_thread and behind.flushes == flushed + 1
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 30)
    if not ready:  # the child hangs waiting for a thread it does not have
        os.kill(pid, signal.SIGKILL)
    answer = os.read(read, 1) if ready else b""
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1"
    behind.request()
    behind.wait()
    assert behind._thread is parent_thread and behind.flushes == flushed + 1
    store.close()
