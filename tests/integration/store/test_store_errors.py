"""Database refusals come out as `StoreError`s that say what happened (the driver's exception
kept as `__cause__`), on the real backends; the store stays usable after one."""

from __future__ import annotations

import pytest

from flowengine.store.errors import StoreError, ValueRefused
from flowengine.store.sql import SqlStore
from flowengine.store.translate import store_error
from tests.support.store import make_case, make_events, store_case


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_state_longer_than_its_column_is_named(store: SqlStore) -> None:
    events = make_events("C1", 1)
    case = make_case("C1", seq=1, last_hash=events[-1].hash, state="s" * 250)
    with pytest.raises(ValueRefused, match="longer than its database column") as caught:
        store.append(case, events, 0)
    assert caught.value.__cause__ is not None
    assert "db upgrade" not in str(caught.value)
    assert store.load_case("C1") is None
    store_case(store, "C1")  # nothing half-written: the same case appends fine after
    assert store.load_case("C1") is not None


def test_unclassified_driver_errors_are_store_errors_with_the_driver_line(
        store: SqlStore) -> None:
    import sqlalchemy as sa

    with pytest.raises(sa.exc.DBAPIError) as raw, store.engine.connect() as conn:
        conn.execute(sa.text("SELECT no_such_column FROM cases"))
    found = store_error(raw.value, None)
    assert type(found) is StoreError and "no_such_column" in str(found)


@pytest.mark.parametrize(("message", "kind"), [
    ("database is locked", "StoreBusy"), ("Python int too large to convert", "ValueRefused")])
def test_sqlite_messages_are_classified(message: str, kind: str) -> None:
    import sqlite3

    exc: BaseException = (sqlite3.OperationalError(message) if "locked" in message
                          else OverflowError(message))
    found = store_error(exc, 30.0)
    assert type(found).__name__ == kind and message in str(found)
