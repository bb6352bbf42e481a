"""The failure book (revision 0005) on a real SQLite file and a real PostgreSQL server: a
case's timer failure is kept across engines (so across `tick` runs and processes) with its
attempts counted on, cleared when the case next succeeds, written apart from other cases'
work; and the look-back for a finished duplicate is an index range (the query plan)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from flowengine.engine.failures import FailureLog, retry_wait
from flowengine.store.failures import CaseFailure
from flowengine.store.sql import SqlStore
from tests.support.store import PROCESS, T0, make_case, make_events, store_case


def test_a_failure_outlives_the_engine_that_recorded_it(store: SqlStore, db_url: str) -> None:
    store_case(store, "C1")
    store_case(store, "C2", data={"petitioner": "李四", "subject": "噪音"})
    first = FailureLog(store).record("C1", ValueError("amount is not set"), T0)
    assert (first.attempts, first.retry_at - T0) == (1, timedelta(minutes=1))
    other = SqlStore(db_url)  # another process's store on the same database
    try:
        log = FailureLog(other)
        log.load(["C1", "C2"])
        assert log.waiting("C1", T0 + timedelta(seconds=59))
        assert not log.waiting("C1", first.retry_at) and not log.waiting("C2", T0)
        second = log.record("C1", ValueError("amount is not set"), first.retry_at)
        assert (second.attempts, second.retry_at - first.retry_at) == (2, timedelta(minutes=2))
        assert other.failure_book.all_failures() == [second]  # instants compare across zones
        assert second.error == "ValueError: amount is not set"
    finally:
        other.close()
    fresh = FailureLog(store)
    fresh.clear("C1", "reconcile")  # another operation's success leaves it
    assert list(store.failure_book.failures_of(["C1", "C2"])) == ["C1"]
    fresh.clear("C1")
    assert store.failure_book.failures_of(["C1"]) == {}
    assert store.failure_book.all_failures() == []


def test_two_workers_recording_the_same_failure_count_it_once(
        store: SqlStore, db_url: str) -> None:
    """Two paging workers can plan the same failing case in the same window: each counts
    on from the row it read before planning and replaces the row whole, so the second
    writes the same attempt count, and the back-off does not grow twice as fast."""
    store_case(store, "C1")
    other = SqlStore(db_url)  # another worker's store on the same database
    try:
        first, second = FailureLog(store), FailureLog(other)
        first.load(["C1"])
        second.load(["C1"])  # both read the book before either failure is written
        first.record("C1", ValueError("amount is not set"), T0)
        late = second.record("C1", ValueError("amount is not set"), T0 + timedelta(seconds=1))
        assert late.attempts == 1
        assert [f.attempts for f in store.failure_book.all_failures()] == [1]
    finally:
        other.close()


def test_back_off_grows_to_an_hour_and_stays_there() -> None:
    waits = [retry_wait(n) for n in range(1, 14)]
    assert waits[:7] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
    assert set(waits[6:]) == {timedelta(hours=1)}


def test_recording_a_failure_does_not_touch_other_cases(store: SqlStore) -> None:
    store_case(store, "C1")
    before = store.load_case("C1")
    store.failure_book.put_failure(CaseFailure("C1", "E: x", 3, T0, T0 + timedelta(hours=1)))
    after = store.load_case("C1")
    assert before is not None and after is not None
    assert (after.seq, after.state, after.data) == (before.seq, before.state, before.data)
    evs = make_events("C2", 1)
    store.append(make_case("C2", seq=1, last_hash=evs[-1].hash), evs, 0)  # not blocked
    assert store.failure_book.failures_of(["C1", "C2"])["C1"].attempts == 3


def _plans(store: SqlStore) -> tuple[list[tuple[str, Any]], Any]:
    seen: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", remember)
    return seen, remember


def test_finished_duplicate_lookup_uses_the_index(store: SqlStore) -> None:
    for i in range(200):  # many finished cases of the process, one of them a match
        who = "张三" if i == 123 else f"人{i}"
        store_case(store, f"C{i:04d}", state="closed",
                   data={"petitioner": who, "subject": "拆迁补偿"})
    seen, remember = _plans(store)
    try:
        found = store.find_finished_duplicate(
            PROCESS, {"petitioner": "张三", "subject": "拆迁补偿"}, T0 - timedelta(days=365))
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)
    assert found == "C0123"
    [(sql, params)] = [(s, p) for s, p in seen if "FROM cases" in s]
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
            plan = " ".join(str(row[3]) for row in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {sql}", params))
            assert "SCAN cases" not in plan, plan
        else:
            conn.exec_driver_sql("ANALYZE cases")
            conn.exec_driver_sql("SET enable_seqscan = off")  # a small table: what it *can*
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}", params))
    assert "ix_cases_finished_dup" in plan and "ix_cases_process" not in plan, plan


@pytest.mark.parametrize("kind", ["memory"])
def test_the_memory_store_keeps_failures_too(kind: str) -> None:
    from flowengine.store.memory import MemoryStore

    store = MemoryStore()
    FailureLog(store).record("C1", KeyError("x"), T0)
    again = FailureLog(store).record("C1", KeyError("x"), T0 + timedelta(minutes=1))
    assert again.attempts == 2 and store.failure_book.all_failures() == [again]
