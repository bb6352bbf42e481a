"""The tick on a SQL store, on SQLite and PostgreSQL: it pages through due cases without
claiming them (each due row is written once, by its append), pages past many cases due at
the same instant, and claims (`due_cases`) once another writer takes one of its cases; the
cycle collector is paused while a tick plans and commits its groups (the youngest
generation collected after each), and only then."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select
from test_store_engine import PROCESSES, START, assert_chain, to_mediation

from flowengine.clock import SimulatedClock
from flowengine.engine import engine as engine_module
from flowengine.engine.engine import Engine
from flowengine.engine.failures import FailureLog
from flowengine.engine.planner import Planner
from flowengine.store import codec
from flowengine.store.base import AppendItem
from flowengine.store.schema import cases, events
from flowengine.store.sql import SqlStore
from tests.support.store import T0, deadline, store_case


def _due(db_url: str, n: int) -> tuple[list[str], datetime]:
    """`n` cases in mediation, all started at the same instant (so their timers all fall
    due at the same instant), and an instant a day after that."""
    setup = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(START))
    ids = [to_mediation(setup) for _ in range(n)]
    dues = {cast(datetime, setup.case(i).deadlines["mediation"].due) for i in ids}
    setup.store.close()  # type: ignore[attr-defined]
    assert len(dues) == 1  # one instant for all: the page key must tell them apart by id
    return ids, dues.pop() + timedelta(days=1)


def _calls(store: SqlStore, names: Sequence[str],
           monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each of the store's methods `names` is called from now on."""
    counted = dict.fromkeys(names, 0)
    for name in names:
        inner = getattr(store, name)

        def spy(*args: Any, _name: str = name, _inner: Any = inner, **kwargs: Any) -> Any:
            counted[_name] += 1
            return _inner(*args, **kwargs)

        monkeypatch.setattr(store, name, spy)
    return counted


def test_a_lone_tick_claims_nothing_and_reads_each_due_row_once(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "DUE_PAGE", 3)  # four pages of cases due at one instant
    monkeypatch.setattr(engine_module, "TICK_GROUP", 2)
    ids, now = _due(db_url, 10)
    store = SqlStore(db_url)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    calls = _calls(store, ["due_page", "due_cases", "_claim_due", "load_cases", "load_case",
                           "append_many"], monkeypatch)
    fired = engine.tick()
    assert sorted({e.case_id for e in fired}) == sorted(ids) and len(fired) == 20
    # no claim (each due row is written once, by its append) and no second read of the
    # rows the pages read. Pages of 3 (3, 3, 3, 1, then an empty one) past cases due at one
    # instant, each in groups of at most 2
    assert calls == {"due_page": 5, "due_cases": 0, "_claim_due": 0, "load_cases": 0,
                     "load_case": 0, "append_many": 7}
    assert engine.tick() == []
    for case_id in ids:  # every case ran out exactly once, the chain intact
        assert [e.type for e in engine.history(case_id)].count("timer") == 1
        assert engine.case(case_id).state == "court_advised"
        assert_chain(engine, case_id)
    store.close()


@pytest.mark.parametrize("page", [1, 3])
def test_a_failing_case_that_stays_due_never_stops_the_tick(
        db_url: str, monkeypatch: pytest.MonkeyPatch, page: int) -> None:
    """A case whose timers fail and cannot be put aside (the deferral did not happen) is
    due again on every page; the tick still fires every other case once and ends: past a
    full page of such cases only, through the claims."""
    monkeypatch.setattr(engine_module, "DUE_PAGE", page)
    clock = SimulatedClock(START)
    setup = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    victim = to_mediation(setup)  # the earliest timer: first on every page
    clock.advance(timedelta(hours=1))
    ids = [to_mediation(setup) for _ in range(5)]
    now = max(cast(datetime, setup.case(i).deadlines["mediation"].due) for i in ids)
    setup.store.close()  # type: ignore[attr-defined]
    real = Planner.timers

    def poisoned(self: Planner, case: Any, *args: Any, **kwargs: Any) -> Any:
        if case.id == victim:
            raise RuntimeError("poison")
        return real(self, case, *args, **kwargs)

    monkeypatch.setattr(Planner, "timers", poisoned)
    store = SqlStore(db_url)
    monkeypatch.setattr(store, "defer_case", lambda case_id, until: None)
    engine = Engine(store=store, processes=[PROCESSES],
                    clock=SimulatedClock(now + timedelta(days=1)))
    calls = _calls(store, ["due_page", "due_cases"], monkeypatch)
    fired = engine.tick()
    assert sorted({e.case_id for e in fired}) == sorted(ids) and len(fired) == 10
    assert (calls["due_cases"] > 0) == (page == 1)  # a page of the victim alone: claims
    assert engine.failures.failures[victim].attempts == 1  # tried once in the tick
    store.close()


@pytest.mark.parametrize("failed_before", [False, True])
def test_a_tick_asks_the_failure_book_about_its_pages_only_when_it_began_with_a_row(
        db_url: str, monkeypatch: pytest.MonkeyPatch, failed_before: bool) -> None:
    """An empty book at the start of the tick is read no more (one question per page of
    due cases would cost every tick that much); a book with a row is asked about each
    page, and the failing case waits for its retry."""
    monkeypatch.setattr(engine_module, "DUE_PAGE", 3)
    ids, now = _due(db_url, 7)
    store = SqlStore(db_url)
    if failed_before:  # an earlier tick's failure, its retry still to come
        FailureLog(store).record(ids[0], ValueError("amount is not set"), now)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    asked = _calls(store.failure_book, ["failures_of"], monkeypatch)  # type: ignore[arg-type]
    fired = engine.tick()
    # the failed case is put aside (deferred): pages of 3 and 3 (and an empty one) are left
    assert asked["failures_of"] == (2 if failed_before else 0)
    assert len({e.case_id for e in fired}) == (6 if failed_before else 7)
    store.close()


class Racing:
    """A store whose first group commit finds one of its cases fired by another worker."""

    def __init__(self, inner: SqlStore, other: Engine, victim: str) -> None:
        self.inner, self.other, self.victim = inner, other, victim
        self.pages = self.claims = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def due_page(self, *args: Any, **kwargs: Any) -> Any:
        self.pages += 1
        return self.inner.due_page(*args, **kwargs)

    def due_cases(self, *args: Any, **kwargs: Any) -> list[str]:
        self.claims += 1
        return self.inner.due_cases(*args, **kwargs)

    def append_many(self, items: Sequence[AppendItem]) -> list[bool]:
        if any(case.id == self.victim for case, *_ in items):
            now = items[0][1][0].at  # another worker fires the victim's timers first
            assert len(self.other._tick_group([self.victim], now)[0]) == 2
        return self.inner.append_many(items)


def test_a_tick_that_loses_a_case_claims_from_then_on(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "DUE_PAGE", 3)
    monkeypatch.setattr(engine_module, "TICK_GROUP", 3)
    clock = SimulatedClock(START)
    setup = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    first = to_mediation(setup)  # the earliest timer: in the first page and group
    clock.advance(timedelta(hours=1))
    ids = [first] + [to_mediation(setup) for _ in range(8)]
    now = max(cast(datetime, setup.case(i).deadlines["mediation"].due) for i in ids)
    now += timedelta(days=1)
    setup.store.close()  # type: ignore[attr-defined]
    other = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(now))
    racing = Racing(SqlStore(db_url), other, victim=first)
    engine = Engine(store=racing, processes=[PROCESSES],  # type: ignore[arg-type]
                    clock=SimulatedClock(now))
    fired = engine.tick()
    assert sorted({e.case_id for e in fired}) == sorted(i for i in ids if i != first)
    assert racing.pages == 1  # the first page, unclaimed; then a case was lost:
    assert racing.claims >= 2  # claims from then on (the rest, then nothing left)
    assert engine.tick() == []
    for case_id in ids:
        assert [e.type for e in engine.history(case_id)].count("timer") == 1
        assert_chain(engine, case_id)
    racing.inner.close()
    other.store.close()  # type: ignore[attr-defined]


def test_the_collector_is_paused_for_a_group_and_running_again_after(
        db_url: str) -> None:
    ids, now = _due(db_url, 3)
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(now))
    during: list[bool] = []
    engine.subscribe(lambda events, case: during.append(gc.isenabled()))
    assert gc.isenabled()
    assert len(engine.tick()) == 6
    assert during == [False] * 3 and gc.isenabled()
    engine.store.close()  # type: ignore[attr-defined]


def test_the_collector_stays_off_between_groups_and_collects_the_young_after_each(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between the groups of one tick the collector is not switched back on (its older
    generations would scan every event fired so far again); the youngest generation is
    collected after each group instead, so a group's cycles are still found."""
    ids, now = _due(db_url, 3)
    monkeypatch.setattr(engine_module, "TICK_GROUP", 1)
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(now))
    seen: list[tuple[str, int | bool]] = []
    group = engine._tick_group

    def spied(*args: Any, **kwargs: Any) -> Any:
        seen.append(("group, collector on", gc.isenabled()))
        return group(*args, **kwargs)

    def collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(("collection", info["generation"]))

    monkeypatch.setattr(engine, "_tick_group", spied)
    gc.callbacks.append(collection)
    try:
        assert len(engine.tick()) == 6
    finally:
        gc.callbacks.remove(collection)
    first = next(i for i, (what, _) in enumerate(seen) if what.startswith("group"))
    assert seen[first:] == [("group, collector on", False), ("collection", 0)] * 3
    assert gc.isenabled()
    engine.store.close()  # type: ignore[attr-defined]


def test_a_host_that_turned_the_collector_off_keeps_it_off(db_url: str) -> None:
    ids, now = _due(db_url, 2)
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(now))
    gc.disable()
    try:
        assert len(engine.tick()) == 4
        assert not gc.isenabled()
    finally:
        gc.enable()
    engine.store.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("after", [False, True])
def test_a_due_page_is_one_range_of_the_timer_index_and_nothing_to_sort(
        store: SqlStore, after: bool) -> None:
    for i in range(20):
        store_case(store, f"C{i}", deadlines={"reply": deadline(due=T0 + timedelta(days=i + 1))})
    assert store.due_page(T0) == []
    page = store.due_page(T0 + timedelta(days=30), None, 5)
    assert [r.id for r in page] == [f"C{i}" for i in range(5)]
    assert [r.id for r in store.due_page(T0 + timedelta(days=30), page[-1].key, 3)] == [
        "C4", "C5", "C6"]  # from the last key on: the caller skips what it has seen
    prepared, sql = store._sql.due_page(after, 1000)
    params = prepared.args({"now": T0, "k_at": T0} if after else {"now": T0})
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            detail = " ".join(str(row[-1]) for row in plan)
            assert "ix_cases_next_timer_at" in detail and "SCAN cases" not in detail, detail
            assert "TEMP B-TREE" not in detail, detail  # the index's order: no sort
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask what it *can*
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            plan = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
            detail = " ".join(row[0] for row in plan)
            assert "ix_cases_next_timer_at" in detail and "Sort" not in detail, plan


def test_timer_events_write_the_data_text_they_read_instead_of_encoding_it_again(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Timer events change no data: their append takes the data text and duplicate key of
    the row it planned from; what is stored is what encoding the case gives."""
    ids, now = _due(db_url, 3)
    store = SqlStore(db_url)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    encoded: list[Any] = []
    real = codec.dump_data

    def counted(data: Any) -> str:
        encoded.append(data)
        return real(data)

    monkeypatch.setattr(codec, "dump_data", counted)
    assert len(engine.tick()) == 6
    assert encoded == []  # neither the data nor the duplicate key encoded again
    monkeypatch.setattr(codec, "dump_data", real)
    fields = store._dup_fields(engine.case(ids[0]).digest)
    with store.engine.connect() as conn:
        for case_id in ids:
            case = engine.case(case_id)
            data, key = conn.execute(select(cases.c.data, cases.c.dup_key)
                                     .where(cases.c.id == case_id)).one()
            expected = codec.case_values(case, True, fields)
            assert (data, key) == (expected["data"], expected["dup_key"])
            assert key is not None  # medical_dispute declares a duplicate key
    store.close()


def test_the_tick_plans_between_its_transactions_while_cases_are_left_to_plan(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each transaction the lock budget cuts short is followed by planning before the next
    one begins, so another writer finds the lock free meanwhile: two transactions follow
    each other only once every due case is planned (the last ones, what is left)."""
    monkeypatch.setattr(engine_module, "TICK_GROUP", 4)
    ids, now = _due(db_url, 10)
    store = SqlStore(db_url)
    store.lock_budget = 0.0  # every transaction takes one case
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    seen: list[str] = []
    real, write = Planner.timers, store._held.write

    def planning(self: Planner, *args: Any, **kwargs: Any) -> Any:
        seen.append("plan")
        return real(self, *args, **kwargs)

    def begun(*args: Any, **kwargs: Any) -> Any:
        seen.append("transaction")
        return write(*args, **kwargs)

    monkeypatch.setattr(Planner, "timers", planning)
    monkeypatch.setattr(store._held, "write", begun)
    fired = engine.tick()
    assert sorted({e.case_id for e in fired}) == sorted(ids) and len(fired) == 20
    assert seen.count("plan") == 10 and seen.count("transaction") == 10
    last_plan = len(seen) - 1 - seen[::-1].index("plan")
    back_to_back = [i for i in range(1, len(seen))
                    if seen[i] == seen[i - 1] == "transaction"]
    assert back_to_back and min(back_to_back) > last_plan, seen
    for case_id in ids:
        assert [e.type for e in engine.history(case_id)].count("timer") == 1
        assert_chain(engine, case_id)
    store.close()


def test_the_tick_ends_with_a_young_collection_after_its_last_transaction(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The young generation is collected once per `TICK_GROUP` cases planned, and once more
    after the last transaction when cases were planned since: the collector is switched
    back on next, and its first run would otherwise take every event the tick fired."""
    monkeypatch.setattr(engine_module, "TICK_GROUP", 4)
    ids, now = _due(db_url, 6)  # a round of 4 (collected), then one of 2
    store = SqlStore(db_url)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    seen: list[str] = []
    write = store._held.write

    def begun(*args: Any, **kwargs: Any) -> Any:
        seen.append("transaction")
        return write(*args, **kwargs)

    def collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and not gc.isenabled():
            seen.append(f"collection {info['generation']}")

    monkeypatch.setattr(store._held, "write", begun)
    gc.callbacks.append(collection)
    try:
        assert len(engine.tick()) == 12
    finally:
        gc.callbacks.remove(collection)
    assert seen == ["transaction", "collection 0", "transaction", "collection 0"], seen
    store.close()


def test_the_events_a_tick_returns_keep_no_copy_of_the_text_it_stored(db_url: str) -> None:
    """Once written, a tick's events let go of the text they were hashed from (the store
    holds it; a tick keeps every event until it returns), before anyone is told of them;
    each still gives that very text, which hashes to its hash."""
    ids, now = _due(db_url, 4)
    store = SqlStore(db_url)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    told: list[Any] = []
    engine.subscribe(lambda events, case: told.extend(e.sealed_body for e in events))
    fired = engine.tick()
    assert len(fired) == 8 and len(told) == 8
    assert [e.sealed_body for e in fired] == [None] * 8
    assert told == [None] * 8
    with store.engine.connect() as conn:
        stored = {(r.case_id, r.seq): r.body for r in conn.execute(
            select(events.c.case_id, events.c.seq, events.c.body)
            .where(events.c.case_id.in_(ids)))}
    for e in fired:
        text = e.canonical_body()
        assert stored[(e.case_id, e.seq)] == text
        assert hashlib.sha256(text.encode()).hexdigest() == e.hash
    store.close()


def test_a_tick_keeps_no_row_of_its_cases_and_leaves_a_fired_case_held(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's cache of rows and projections (rowcache.py) keeps nothing of the cases
    a tick wrote: a tick larger than the cache leaves the projection of a case just fired
    held (its next fire needs no read)."""
    monkeypatch.setattr(engine_module, "DUE_PAGE", 3)
    monkeypatch.setattr(engine_module, "TICK_GROUP", 2)
    ids, now = _due(db_url, 12)
    store = SqlStore(db_url)
    store._rows._limit = 8  # smaller than the tick
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(now))
    worked_on = to_mediation(engine)  # its deadline runs from now: not due
    assert len(engine.tick()) == 24
    assert len(store._rows) == 1  # the case fired, nothing of the twelve ticked
    assert store.recent_case(worked_on) is not None
    store.close()
