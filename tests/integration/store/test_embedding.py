"""The engine inside a real host: a thread pool and `asyncio.to_thread` sharing one host
SQLAlchemy engine, the host's own transaction (commit and rollback, SQLite and PostgreSQL),
a host holding the SQLite write lock (`StoreBusy`), and `Case.to_dict`/`to_json`."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flowengine import (
    Actor,
    Engine,
    HostTransactionMissing,
    SimulatedClock,
    StoreBusy,
    TransactionUnsupported,
)
from flowengine.store.sql import SqlStore
from tests.support.store import CST

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
CLERK = Actor("王芳", "clerk")
AT = datetime(2026, 8, 3, 9, tzinfo=CST)


def petition(i: int) -> dict[str, Any]:
    return {"petitioner": f"信访人{i}", "subject": f"事项{i}"}


@pytest.fixture
def host_db(db_url: str) -> Iterator[sa.Engine]:
    db = sa.create_engine(db_url)  # the host's engine: SQLAlchemy's default pool (5 + 10)
    yield db
    db.dispose()


@pytest.fixture
def engine(host_db: sa.Engine) -> Engine:
    return Engine(db=host_db, processes=[PROCESSES], clock=SimulatedClock(AT))


def test_twenty_threads_share_a_pool_of_fifteen(engine: Engine) -> None:
    """20 × 5 starts at once: before, each thread kept a connection and 5 failed after 30 s
    with "QueuePool limit … reached"; now every start commits."""

    def five(t: int) -> list[str]:
        return [engine.start("standard_case", petition(t * 5 + i), actor=CLERK, at=AT).id
                for i in range(5)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = [cid for chunk in pool.map(five, range(20), timeout=120) for cid in chunk]
    assert len(set(ids)) == 100
    assert len(engine.cases(limit=1000)) == 100


def test_asyncio_to_thread(engine: Engine) -> None:
    async def main() -> list[str]:
        started = await asyncio.gather(*[
            asyncio.to_thread(engine.start, "standard_case", petition(i), actor=CLERK, at=AT)
            for i in range(30)])
        fired = await asyncio.gather(*[
            asyncio.to_thread(engine.fire, c.id, "accept", {}, actor=CLERK, at=AT)
            for c in started])
        return [c.state for c in fired]

    assert asyncio.run(main()) == ["accepted"] * 30


def host_rows(db: sa.Engine) -> list[str]:
    with db.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT note FROM host_log"))]


@pytest.fixture
def host_table(host_db: sa.Engine) -> sa.Engine:
    with host_db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE host_log (note VARCHAR(40))"))
    return host_db


def test_host_rollback_leaves_no_case(engine: Engine, host_table: sa.Engine) -> None:
    told: list[str] = []
    engine.subscribe(lambda events, case: told.append(case.id))
    with pytest.raises(RuntimeError), host_table.connect() as conn, conn.begin():
        conn.execute(sa.text("INSERT INTO host_log VALUES ('ticket 1')"))
        with engine.transaction(conn):
            case = engine.start("standard_case", petition(1), actor=CLERK, at=AT)
            engine.fire(case.id, "accept", actor=CLERK, at=AT)
        raise RuntimeError("the host fails after the fire")
    assert engine.cases() == [] and host_rows(host_table) == [] and told == []
    assert list(engine.store.events(case.id)) == []
    # and a fresh start of the same petition is not a duplicate of the case rolled back
    again = engine.start("standard_case", petition(1), actor=CLERK, at=AT)
    assert again.duplicate_of is None


def test_host_commit_keeps_both_and_tells_after(engine: Engine, host_table: sa.Engine) -> None:
    told: list[str] = []
    engine.subscribe(lambda events, case: told.append(case.state))
    with host_table.connect() as conn, conn.begin():
        conn.execute(sa.text("INSERT INTO host_log VALUES ('ticket 2')"))
        with engine.transaction(conn):
            case = engine.start("standard_case", petition(2), actor=CLERK, at=AT)
            after = engine.fire(case.id, "accept", actor=CLERK, at=AT)
        assert told == []  # not yet committed: nothing announced
    assert told == ["registered", "accepted"]
    assert host_rows(host_table) == ["ticket 2"]
    assert engine.case(case.id).state == after.state == "accepted"
    assert [e.seq for e in engine.history(case.id)] == [1, 2]


def test_refused_fire_keeps_the_host_transaction_usable(engine: Engine,
                                                        host_table: sa.Engine) -> None:
    from flowengine import TriggerRejected

    with host_table.connect() as conn, conn.begin():
        with engine.transaction(conn):
            case = engine.start("standard_case", petition(3), actor=CLERK, at=AT)
            with pytest.raises(TriggerRejected):
                engine.fire(case.id, "close", actor=CLERK, at=AT)
        conn.execute(sa.text("INSERT INTO host_log VALUES ('after refusal')"))
    assert engine.case(case.id).state == "registered"
    assert host_rows(host_table) == ["after refusal"]


def test_transaction_needs_an_open_transaction(engine: Engine, host_db: sa.Engine) -> None:
    with host_db.connect() as conn, pytest.raises(HostTransactionMissing, match="begin"):
        with engine.transaction(conn):
            pass


def test_memory_store_cannot_join(host_db: sa.Engine) -> None:
    mem = Engine(processes=[PROCESSES])
    with host_db.connect() as conn, conn.begin(), pytest.raises(TransactionUnsupported):
        with mem.transaction(conn):
            pass


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_locked_sqlite_is_store_busy(db_url: str, tmp_path: Path) -> None:
    store = SqlStore(db_url, busy_timeout_ms=300)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(AT))
    blocker = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the host holds the write lock
    try:
        with pytest.raises(StoreBusy) as caught:
            engine.start("standard_case", petition(4), actor=CLERK, at=AT)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert caught.value.waited == 0.3 and "0.3 s" in str(caught.value)
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError | sqlite3.OperationalError)
    assert engine.cases() == []
    engine.start("standard_case", petition(4), actor=CLERK, at=AT)  # the lock is gone: fine
    store.close()


def test_case_to_dict_and_json(engine: Engine) -> None:
    case = engine.start("standard_case", {**petition(5), "channel": "letter"},
                        actor=CLERK, at=AT)
    doc = case.to_dict()
    assert json.loads(case.to_json()) == doc
    assert doc["id"] == case.id and doc["state"] == "registered"
    assert doc["data"]["petitioner"] == "信访人5" and doc["owner"] == {"name": "王芳",
                                                                       "role": "clerk"}
    assert [d["name"] for d in doc["deadlines"]] == sorted(case.deadlines)
    assert doc["created_at"] == AT.isoformat()
