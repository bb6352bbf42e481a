"""`rows.decode` checks the query columns kept beside each stored body against the body:
the `at` column must hold the very text the store writes for that instant (UTC, six
fraction digits), so a column rewritten to another spelling of the same instant is still
reported, and the right text passes whether or not the instant has a fraction."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from flowengine.audit.rows import Unreadable, decode


def _row(at: str, column_at: str) -> tuple[bytes, tuple[Any, ...]]:
    body = {"case_id": "c1", "seq": 1, "at": at, "type": "started",
            "actor": {"name": "王芳", "role": "clerk"}, "process_id": "p", "digest": "d" * 64,
            "trigger": None, "source": None, "dest": "registered", "data": {"x": "y"},
            "effects": [], "notifications": [], "prev_hash": "0" * 64}
    columns = (column_at, "started", None, None, "registered", "王芳", "clerk", "p", "d" * 64,
               "0" * 64)
    return orjson.dumps(body), columns


@pytest.mark.parametrize(("at", "column_at"), [
    ("2026-03-02T09:00:00+08:00", "2026-03-02T01:00:00.000000+00:00"),
    ("2026-03-02T09:00:00.250000+08:00", "2026-03-02T01:00:00.250000+00:00"),
    ("2026-03-02T01:00:00.000001+00:00", "2026-03-02T01:00:00.000001+00:00"),
])
def test_the_text_the_store_writes_passes(at: str, column_at: str) -> None:
    body, columns = _row(at, column_at)
    row = decode("c1", 1, body, "h" * 64, columns)
    assert not isinstance(row, Unreadable), row.why
    assert row[0].data == {"x": "y"}


@pytest.mark.parametrize("column_at", [
    "2026-03-02T01:00:00+00:00",  # the same instant, without the fraction
    "2026-03-02T09:00:00.000000+08:00",  # the same instant, local time
    "2026-03-02 01:00:00.000000+00:00",  # the same instant, a space for the T
    "2026-03-02T01:00:00.000001+00:00",  # a microsecond later
])
def test_another_spelling_of_the_instant_is_reported(column_at: str) -> None:
    body, columns = _row("2026-03-02T09:00:00+08:00", column_at)
    row = decode("c1", 1, body, "h" * 64, columns)
    assert isinstance(row, Unreadable)
    assert row.why == (f"the stored row's at column holds {column_at!r} but its body says "
                       "'2026-03-02T09:00:00+08:00'")


@pytest.mark.parametrize(("index", "name", "value"), [
    (1, "type", "timer"), (5, "actor_name", "李四"), (9, "prev_hash", "1" * 64),
    (3, "source", 0)])
def test_each_other_column_is_compared(index: int, name: str, value: Any) -> None:
    body, columns = _row("2026-03-02T09:00:00+08:00", "2026-03-02T01:00:00.000000+00:00")
    changed = columns[:index] + (value,) + columns[index + 1:]
    row = decode("c1", 1, body, "h" * 64, changed)
    assert isinstance(row, Unreadable) and f"the stored row's {name} column holds" in row.why
