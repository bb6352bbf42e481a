"""Listeners and plugins hear of a fire inside a host's transaction only once the host's
COMMIT has returned: when the COMMIT itself fails (a deferred foreign key the host broke),
nobody is told; when it succeeds, a listener already sees the case from another connection
(the data is durable before anyone is told). SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flowengine import Actor, Engine, SimulatedClock
from flowengine.plugins import hookimpl
from tests.support.store import CST

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
CLERK = Actor("王芳", "clerk")
AT = datetime(2026, 8, 3, 9, tzinfo=CST)


class Observer:
    """A plugin that records every case it is told was started."""

    def __init__(self) -> None:
        self.started: list[str] = []

    @hookimpl
    def flowengine_case_started(self, case: Any, event: Any) -> None:
        self.started.append(case.id)


@pytest.fixture
def host(db_url: str) -> Iterator[sa.Engine]:
    db = sa.create_engine(db_url)
    with db.begin() as conn:  # a constraint checked only at COMMIT, as hosts use them
        conn.execute(sa.text("CREATE TABLE host_parent (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("CREATE TABLE host_child (pid INTEGER REFERENCES host_parent(id) "
                             "DEFERRABLE INITIALLY DEFERRED)"))
    yield db
    db.dispose()


def test_a_commit_that_fails_tells_nobody(host: sa.Engine) -> None:
    plugin = Observer()
    engine = Engine(db=host, processes=[PROCESSES], clock=SimulatedClock(AT), plugins=[plugin])
    told: list[str] = []
    engine.subscribe(lambda events, case: told.append(case.id))
    with host.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
        conn.begin()
        with engine.transaction(conn):
            case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"},
                                actor=CLERK, at=AT)
        conn.execute(sa.text("INSERT INTO host_child VALUES (42)"))  # no parent 42
        with pytest.raises(sa.exc.IntegrityError):
            conn.commit()  # the COMMIT is refused by the deferred constraint
        assert told == [] and plugin.started == []
        conn.rollback()  # SQLite leaves the transaction open after a failed COMMIT
    assert told == [] and plugin.started == []
    assert engine.cases() == [] and list(engine.store.events(case.id)) == []
    again = engine.start("standard_case", {"petitioner": "李四", "subject": "噪音"},
                         actor=CLERK, at=AT)  # the engine goes on: told directly
    assert told == [again.id] and plugin.started == [again.id]


def test_a_listener_is_told_after_the_data_is_durable(host: sa.Engine) -> None:
    engine = Engine(db=host, processes=[PROCESSES], clock=SimulatedClock(AT))
    seen: list[tuple[str, int]] = []

    def from_elsewhere(events: Any, case: Any) -> None:
        with host.connect() as other:  # another connection: sees committed data only
            count = other.execute(sa.text("SELECT count(*) FROM events WHERE case_id = :c"),
                                  {"c": case.id}).scalar_one()
        seen.append((case.id, count))

    engine.subscribe(from_elsewhere)
    with host.connect() as conn, conn.begin():
        with engine.transaction(conn):
            case = engine.start("standard_case", {"petitioner": "王五", "subject": "噪音"},
                                actor=CLERK, at=AT)
        conn.execute(sa.text("INSERT INTO host_parent VALUES (1)"))
    assert seen == [(case.id, 1)]
