"""`SqlStore` against the `Store` protocol, on a real SQLite file and a real PostgreSQL.

Each test writes through the store and reads back through the store (and, where the
on-disk form is the point, through plain SQL): round trips are exact, a stale writer changes
nothing, the outbox commits or rolls back with its events, timers come back earliest first.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select

from flowengine.errors import ConcurrentUpdate
from flowengine.records.case import Actor
from flowengine.records.events import canonical, chain_hash
from flowengine.store.base import CaseQuery, OutboxRow
from flowengine.store.codec import case_values
from flowengine.store.schema import cases as cases_table
from flowengine.store.schema import events as events_table
from flowengine.store.schema import outbox as outbox_table
from flowengine.store.sql import SqlStore
from flowengine.store.sqlrows import event_row
from tests.support.store import CST, DIGEST, PROCESS, T0, deadline, make_case, make_events, store_case


def count(store: SqlStore, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def outbox_row(case_id: str, seq: int, i: int = 0, channel: str = "sms",
               at: datetime = T0, **kw: object) -> OutboxRow:
    return OutboxRow(id=f"{case_id}:{seq}:{i}:{channel}", case_id=case_id, seq=seq,
                     channel=channel, created_at=at,
                     payload={"kind": "acceptance", "message": "已受理", "amount": "30000.01"},
                     **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- round trips
def test_case_round_trip_keeps_types_and_deadlines(store: SqlStore) -> None:
    paused = deadline("reply", status="paused", due=None, paused_on=date(2026, 3, 20),
                      pauses=[(date(2026, 3, 5), date(2026, 3, 9))], extended=15,
                      extensions=1, warned=True, warn_at=T0 + timedelta(days=20))
    paused = replace(paused, due=None, due_date=None)
    overdue = deadline("accept", status="overdue", marked=True, late=True,
                       stopped_at=T0 + timedelta(hours=3))
    data = {
        "petitioner": "张三", "subject": "拆迁补偿", "claim": Decimal("30000.01"),
        "zero": Decimal("0.00"), "received_on": date(2026, 1, 1),
        "hearing_at": datetime(2026, 3, 9, 14, 30, tzinfo=CST), "count": 3, "urgent": True,
        "tags": ["a", "b"], "signatures": [{"name": "李明", "role": "director",
                                             "at": "2026-03-02T10:00:00+08:00"}],
        "looks_like_a_tag": {"$dec": "not a number"}, "nested": [{"$date": "x"}],
    }
    evs = make_events("C1", 2)
    case = make_case("C1", seq=2, last_hash=evs[-1].hash, data=data,
                     deadlines={"reply": paused, "accept": overdue}, duplicate_of="C0")
    store.append(case, evs, 0)
    loaded = store.load_case("C1")
    assert loaded == case
    assert type(loaded.data["claim"]) is Decimal and str(loaded.data["zero"]) == "0.00"
    assert type(loaded.data["received_on"]) is date
    assert loaded.data["hearing_at"].utcoffset() == timedelta(hours=8)
    assert loaded.data["looks_like_a_tag"] == {"$dec": "not a number"}
    assert loaded.deadlines["reply"].pauses == [(date(2026, 3, 5), date(2026, 3, 9))]
    assert loaded.deadlines["reply"].started_at.utcoffset() == timedelta(hours=8)
    assert loaded.owner == Actor("王芳", "clerk") and loaded.overdue and loaded.late


def test_unknown_case_loads_as_none(store: SqlStore) -> None:
    assert store.load_case("nope") is None
    assert list(store.events("nope")) == []


def test_load_cases_reads_many_in_the_order_given_and_leaves_out_unknown_ids(
        store: SqlStore) -> None:
    ids = [f"C{i:03d}" for i in range(230)]  # more than two SELECT chunks, the last one short
    for i, case_id in enumerate(ids):
        store_case(store, case_id, data={"count": i})
    wanted = [ids[5], "nope", *reversed(ids[100:230]), ids[0]]
    loaded = store.load_cases(wanted)
    assert [c.id for c in loaded] == [ids[5], *reversed(ids[100:230]), ids[0]]
    assert loaded == [store.load_case(c.id) for c in loaded]
    assert store.load_cases([]) == []


def test_events_are_stored_byte_for_byte_in_order(store: SqlStore) -> None:
    first = make_events("C1", 3)
    case = make_case("C1", seq=3, last_hash=first[-1].hash)
    store.append(case, first, 0)
    more = make_events("C1", 2, after=3, prev=first[-1].hash)
    store.append(make_case("C1", seq=5, last_hash=more[-1].hash), more, 3)
    loaded = list(store.events("C1"))
    assert [e.seq for e in loaded] == [1, 2, 3, 4, 5]
    for original, back in zip(first + more, loaded, strict=True):
        assert canonical(back.body()) == canonical(original.body())
        assert back.hash == original.hash == chain_hash(back.body())
    with store.engine.connect() as conn:
        bodies = conn.execute(select(events_table.c.body).order_by(events_table.c.seq)).scalars()
        assert list(bodies) == [canonical(e.body()) for e in first + more]
    assert [e.prev_hash for e in loaded[1:]] == [e.hash for e in loaded[:-1]]


def test_all_events_streams_case_by_case_in_sequence(store: SqlStore) -> None:
    for case_id in ("C2", "C1", "C3"):
        store_case(store, case_id, events=4)
    seen = [(e.case_id, e.seq) for e in store.all_events(batch=3)]
    assert seen == [(c, s) for c in ("C1", "C2", "C3") for s in range(1, 5)]


# --------------------------------------------------------------------------- concurrency
def test_stale_expected_seq_raises_and_writes_nothing(store: SqlStore) -> None:
    case = store_case(store, "C1", events=2)
    winner = make_events("C1", 1, after=2, prev=case.last_hash)
    store.append(make_case("C1", seq=3, last_hash=winner[0].hash, state="accepted"), winner, 2)
    loser = make_events("C1", 1, after=2, prev=case.last_hash, trigger="other")
    with pytest.raises(ConcurrentUpdate) as caught:
        store.append(make_case("C1", seq=3, last_hash=loser[0].hash, state="rejected"),
                     loser, 2, outbox=[outbox_row("C1", 3)])
    assert caught.value.case_id == "C1"
    stored = store.load_case("C1")
    assert stored is not None and stored.state == "accepted" and stored.seq == 3
    assert [e.hash for e in store.events("C1")][-1] == winner[0].hash
    assert count(store, events_table) == 3 and count(store, outbox_table) == 0


def test_starting_an_existing_case_id_again_is_a_conflict(store: SqlStore) -> None:
    store_case(store, "C1")
    with pytest.raises(ConcurrentUpdate):
        store_case(store, "C1", state="other")
    assert store.load_case("C1").state == "registered"  # type: ignore[union-attr]
    assert count(store, events_table) == 1


def test_malformed_append_is_refused_before_the_database(store: SqlStore) -> None:
    evs = make_events("C1", 2)
    with pytest.raises(ValueError, match="do not follow"):
        store.append(make_case("C1", seq=2, last_hash=evs[-1].hash), evs[1:], 0)
    with pytest.raises(ValueError, match="projection"):
        store.append(make_case("C1", seq=5, last_hash=evs[-1].hash), evs, 0)
    assert store.load_case("C1") is None


def test_new_case_ids_are_unique(store: SqlStore) -> None:
    ids = {store.new_case_id(PROCESS) for _ in range(20_000)}
    assert len(ids) == 20_000
    assert all(i.startswith("C") and len(i) == 17 for i in ids)


# --------------------------------------------------------------------------- outbox
def test_outbox_rows_commit_with_their_events(store: SqlStore) -> None:
    evs = make_events("C1", 1)
    rows = [outbox_row("C1", 1, 0, "sms"), outbox_row("C1", 1, 0, "email")]
    store.append(make_case("C1", seq=1, last_hash=evs[0].hash), evs, 0, outbox=rows)
    assert [r.id for r in store.outbox()] == ["C1:1:0:email", "C1:1:0:sms"]
    assert store.outbox(case_id="C1")[0] == rows[1]
    more = make_events("C1", 1, after=1, prev=evs[0].hash)
    again = [outbox_row("C1", 1, 0, "sms"), outbox_row("C1", 2, 0, "sms")]  # first: a repeat
    store.append(make_case("C1", seq=2, last_hash=more[0].hash), more, 1, outbox=again)
    assert len(store.outbox()) == 3


def test_failing_append_leaves_no_outbox_row_and_no_event(store: SqlStore) -> None:
    evs = make_events("C1", 1)
    case = make_case("C1", seq=1, last_hash=evs[0].hash)
    orphan = outbox_row("NOT-A-CASE", 1)  # violates the foreign key: the append must fail
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError
        store.append(case, evs, 0, outbox=[outbox_row("C1", 1), orphan])
    assert store.load_case("C1") is None
    assert count(store, events_table) == 0 and count(store, outbox_table) == 0


def test_due_outbox_delivery_retry_and_dead_letters(store: SqlStore) -> None:
    evs = make_events("C1", 1)
    rows = [outbox_row("C1", 1, 0, "sms", at=T0 + timedelta(minutes=2)),
            outbox_row("C1", 1, 1, "sms", at=T0),
            outbox_row("C1", 1, 2, "sms", at=T0 + timedelta(hours=5))]
    store.append(make_case("C1", seq=1, last_hash=evs[0].hash), evs, 0, outbox=rows)
    now = T0 + timedelta(hours=1)
    due = store.due_outbox(now)
    assert [r.id for r in due] == ["C1:1:1:sms", "C1:1:0:sms"]
    assert store.due_outbox(now) == []  # claimed by the first caller
    store.record_delivery("C1:1:1:sms", at=now, ok=True)
    retry_at = now + timedelta(minutes=10)
    store.record_delivery("C1:1:0:sms", at=now, ok=False, error="timeout",
                          next_attempt_at=retry_at)
    assert store.due_outbox(now + timedelta(minutes=5)) == []
    (again,) = store.due_outbox(retry_at)
    assert (again.id, again.attempts, again.last_error) == ("C1:1:0:sms", 1, "timeout")
    store.record_delivery(again.id, at=retry_at, ok=False, error="refused", dead=True)
    delivered = store.outbox(status="delivered")
    assert [(r.id, r.attempts, r.delivered_at) for r in delivered] == [("C1:1:1:sms", 1, now)]
    assert [r.id for r in store.outbox(status="dead")] == ["C1:1:0:sms"]
    assert store.retry_outbox(None, retry_at) == 1
    (revived,) = store.outbox(status="pending", case_id="C1")[:1]
    assert (revived.attempts, revived.next_attempt_at) == (0, retry_at)
    assert [r.id for r in store.due_outbox(T0 + timedelta(hours=6))] == [
        "C1:1:0:sms", "C1:1:2:sms"]


# --------------------------------------------------------------------------- timers
def test_due_cases_earliest_first_and_claimed_once(store: SqlStore) -> None:
    for i, days in enumerate([9, 3, 30, 5]):
        store_case(store, f"C{i}", deadlines={"reply": deadline(due=T0 + timedelta(days=days))})
    store_case(store, "NOTIMER")
    store_case(store, "DONE", deadlines={"reply": deadline(status="met")})
    now = T0 + timedelta(days=10)
    assert store.due_cases(now, limit=2) == ["C1", "C3"]
    assert store.due_cases(now) == ["C0"]  # C1 and C3 are claimed by the first call
    assert store.due_cases(now) == []
    # a claim runs out: a worker that died holding it does not block the timer for ever
    assert store.due_cases(now + timedelta(hours=1)) == ["C1", "C3", "C0"]


def test_due_cases_claims_in_chunks_of_claim_chunk(store: SqlStore) -> None:
    """A claim rewrites every row it claims: `claim_chunk` rows per transaction bound how
    long it holds the write lock; the caller still gets up to `limit`, earliest first."""
    for i, days in enumerate([9, 3, 30, 5, 1, 7, 2]):
        store_case(store, f"C{i}", deadlines={"reply": deadline(due=T0 + timedelta(days=days))})
    claims: list[str] = []

    def grab(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            claims.append(statement)

    store.claim_chunk = 2
    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        assert store.due_cases(T0 + timedelta(days=10), limit=5) == ["C4", "C6", "C1", "C3", "C5"]
        assert len(claims) == 3  # 2 + 2 + 1
        assert store.due_cases(T0 + timedelta(days=10)) == ["C0"]  # the rest are claimed
        assert len(claims) == 4  # one chunk found fewer than 2: no further claim
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)


def test_append_releases_the_claim_and_moves_the_timer(store: SqlStore) -> None:
    case = store_case(store, "C1", deadlines={"reply": deadline(due=T0 + timedelta(days=1))})
    later = T0 + timedelta(days=2)
    assert store.due_cases(later) == ["C1"]
    evs = make_events("C1", 1, after=1, prev=case.last_hash)
    moved = make_case("C1", seq=2, last_hash=evs[0].hash,
                      deadlines={"reply": deadline(due=T0 + timedelta(days=3))})
    store.append(moved, evs, 1)
    assert store.due_cases(later) == []
    assert store.due_cases(T0 + timedelta(days=3)) == ["C1"]


def test_zero_due_tick_is_one_index_lookup(store: SqlStore) -> None:
    for i in range(20):
        store_case(store, f"C{i}", deadlines={"reply": deadline(due=T0 + timedelta(days=i + 1))})
    seen: list[tuple[str, Any]] = []

    def grab(conn: object, cursor: object, statement: str, parameters: object, *_: object) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        assert store.due_cases(T0) == []
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)
    assert len(seen) == 1, seen  # one read: no claim written, no case loaded
    statement, params = seen[0]
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            detail = " ".join(str(row[-1]) for row in plan)
            assert "ix_cases_next_timer_at" in detail and "SCAN cases" not in detail, detail
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask what it *can*
            plan = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
            assert "ix_cases_next_timer_at" in " ".join(row[0] for row in plan), plan


# --------------------------------------------------------------------------- queries
def test_find_open_duplicate_by_declared_key(store: SqlStore) -> None:
    store_case(store, "C1", data={"petitioner": "张三", "subject": "拆迁补偿", "n": 1})
    store_case(store, "C2", data={"petitioner": "张三", "subject": "拆迁补偿"}, state="closed")
    store_case(store, "C3", data={"petitioner": "李四", "subject": "拆迁补偿"})
    assert store.find_open_duplicate(PROCESS, {"petitioner": "张三", "subject": "拆迁补偿"}) == "C1"
    assert store.find_open_duplicate(PROCESS, {"subject": "拆迁补偿", "petitioner": "李四"}) == "C3"
    assert store.find_open_duplicate(PROCESS, {"petitioner": "王五", "subject": "拆迁补偿"}) is None
    assert store.find_open_duplicate("other", {"petitioner": "张三", "subject": "拆迁补偿"}) is None


def test_find_open_duplicate_compares_typed_values(store: SqlStore) -> None:
    data = {"petitioner": "张三", "subject": "拆迁补偿", "claim": Decimal("35000.00"),
            "on": date(2026, 1, 5)}
    store_case(store, "C1", data=data)
    # a key no definition declares: found by narrowing on the JSON data, then compared typed
    assert store.find_open_duplicate(PROCESS, {"claim": Decimal("35000"),
                                               "petitioner": "张三"}) == "C1"
    assert store.find_open_duplicate(PROCESS, {"on": date(2026, 1, 5)}) == "C1"
    assert store.find_open_duplicate(PROCESS, {"claim": Decimal("35000.01")}) is None
    assert store.find_open_duplicate(PROCESS, {"claim": "35000.00"}) is None  # text ≠ money


def test_cases_query_filters(store: SqlStore) -> None:
    store_case(store, "C1", state="registered")
    store_case(store, "C2", state="accepted",
               deadlines={"reply": deadline(status="overdue")})
    store_case(store, "C3", state="accepted", process_id="other")
    assert [c.id for c in store.cases(CaseQuery())] == ["C1", "C2", "C3"]
    assert [c.id for c in store.cases(CaseQuery(process_id=PROCESS))] == ["C1", "C2"]
    assert [c.id for c in store.cases(CaseQuery(state="accepted"))] == ["C2", "C3"]
    assert [c.id for c in store.cases(CaseQuery(overdue=True))] == ["C2"]
    assert [c.id for c in store.cases(CaseQuery(overdue=False, limit=1))] == ["C1"]


def test_definitions_are_kept_once_by_digest(store: SqlStore) -> None:
    store.save_definition("e" * 64, PROCESS, "2", "id: petition\nversion: '2'\n")
    store.save_definition("e" * 64, PROCESS, "2", "something else")  # idempotent: kept first
    assert store.definition_text("e" * 64) == "id: petition\nversion: '2'\n"
    assert store.definition_text(DIGEST) is not None
    assert store.definition_text("f" * 64) is None


def test_a_case_cannot_point_at_an_unsaved_definition(store: SqlStore) -> None:
    evs = make_events("C1", 1)
    case = replace(make_case("C1", seq=1, last_hash=evs[0].hash), digest="0" * 64)
    with pytest.raises(Exception, match="(?i)foreign key"):
        store.append(case, evs, 0)


def test_two_stores_on_one_database_never_write_from_a_stale_row(db_url: str,
                                                                  store: SqlStore) -> None:
    other = SqlStore(db_url)  # another process, in effect: its own connections and memory
    first = store_case(store, "C1", deadlines={"reply": deadline(due=T0 + timedelta(days=1))})
    assert other.load_case("C1") == first
    mine = make_events("C1", 1, after=1, prev=first.last_hash)
    moved = make_case("C1", seq=2, last_hash=mine[0].hash, state="accepted",
                      deadlines={"reply": deadline(due=T0 + timedelta(days=5))})
    store.append(moved, mine, 1)
    theirs = make_events("C1", 1, after=1, prev=first.last_hash, trigger="other")
    with pytest.raises(ConcurrentUpdate):
        other.append(make_case("C1", seq=2, last_hash=theirs[0].hash), theirs, 1)
    reloaded = other.load_case("C1")
    assert reloaded == moved
    more = make_events("C1", 1, after=2, prev=moved.last_hash)
    other.append(replace(moved, seq=3, last_hash=more[0].hash, state="replied"), more, 2)
    assert store.load_case("C1") == replace(moved, seq=3, last_hash=more[0].hash,
                                            state="replied")
    assert store.due_cases(T0 + timedelta(days=5)) == ["C1"]  # the timer column kept
    other.close()


def test_all_events_memory_stays_flat_while_streaming(store: SqlStore) -> None:
    template = make_events("C0", 1)[0]
    row = event_row(template)
    cases_n, per_case = 200, 30
    with store._writer.begin() as conn:  # bulk rows straight into the tables (not the point)
        for i in range(cases_n):
            case = make_case(f"C{i:04d}", seq=per_case)
            values = case_values(case, False)
            conn.execute(cases_table.insert(), values)
            conn.execute(events_table.insert(), [
                {**row, "case_id": case.id, "seq": s} for s in range(1, per_case + 1)])

    def peak(consume: Callable[[], object]) -> int:
        tracemalloc.start()
        consume()
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    streamed = peak(lambda: sum(1 for _ in store.all_events(batch=500)))
    held = peak(lambda: list(store.all_events(batch=500)))
    assert held > 5 * streamed, (held, streamed)  # 6,000 events held vs a batch at a time


def test_duplicate_lookup_by_declared_key_is_an_index_probe(store: SqlStore) -> None:
    for i in range(20):
        store_case(store, f"C{i}", data={"petitioner": f"人{i}", "subject": "拆迁补偿"})
    seen: list[tuple[str, Any]] = []

    def grab(conn: object, cursor: object, statement: str, parameters: object, *_: object) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        assert store.find_open_duplicate(PROCESS, {"petitioner": "人7", "subject": "拆迁补偿"}) == "C7"
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)
    statement, params = next((s, p) for s, p in seen if "dup_key" in s)
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, params))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))
    assert "ix_cases_open_dup" in plan, plan
