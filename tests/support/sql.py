"""Plain SQL against a test database, for tampering behind the engine's back, and the SQL a
store sends, for tests of which statements an append runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text

from flowengine.store.checkout import _Pair
from flowengine.store.sql import SqlStore


def run_sql(url: str, sql: str, **params: Any) -> list[Any]:
    """Run one statement in its own transaction: its rows, or `[rowcount]` for a write."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else [result.rowcount]
    finally:
        engine.dispose()


@contextmanager
def traced(store: SqlStore, statements: list[str]) -> Iterator[None]:
    """Record the SQL of the SQLite store's checked-out connections (the append path)."""
    store._held.close()  # connections made from here on are traced
    raw = store.engine.raw_connection()
    driver: Any = raw.driver_connection
    driver.set_trace_callback(statements.append)
    store._held._idle.append(_Pair(raw, driver.cursor()))
    try:
        yield
    finally:
        driver.set_trace_callback(None)
