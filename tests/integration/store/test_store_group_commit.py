"""Group commit, on SQLite and PostgreSQL: `append_many` writes many cases in one
transaction, a case whose sequence number moved on (another worker won) is skipped, leaving any
claim on it alone, while the others commit; `Engine.tick` uses it for many due cases at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from test_store_engine import PROCESSES, START, assert_chain, to_mediation

from flowengine.clock import SimulatedClock
from flowengine.engine import engine as engine_module
from flowengine.engine.engine import Engine
from flowengine.store.base import AppendItem, OutboxRow
from flowengine.store.errors import StoreError
from flowengine.store.memory import MemoryStore
from flowengine.store.sql import SqlStore
from tests.support.sql import traced
from tests.support.store import (
    DEFINITION,
    DIGEST,
    DUPLICATE_KEY,
    PROCESS,
    T0,
    deadline,
    make_case,
    make_events,
    store_case,
)


def _next(store: Any, case_id: str, seq: int, last_hash: str) -> tuple[Any, list[Any]]:
    evs = make_events(case_id, 2, after=seq, prev=last_hash)
    return make_case(case_id, seq=seq + 2, last_hash=evs[-1].hash, state="replied"), evs


@pytest.mark.parametrize("kind", ["sql", "memory"])
def test_append_many_commits_all_but_the_stale_one(store: SqlStore, kind: str) -> None:
    target: Any = store if kind == "sql" else MemoryStore()
    soon = {"reply": deadline(due=T0 + timedelta(days=1))}
    stored = []
    for i in range(6):
        evs = make_events(f"C{i}", 1)
        case = make_case(f"C{i}", seq=1, last_hash=evs[-1].hash, deadlines=soon)
        target.append(case, evs, 0)
        stored.append(case)
    if kind == "sql":
        assert store.due_cases(T0 + timedelta(days=2)) == [f"C{i}" for i in range(6)]
    # another worker moves C2 on first
    won, won_events = _next(target, "C2", 1, stored[2].last_hash)
    target.append(won, won_events, 1)
    items: list[AppendItem] = []
    for case in stored:
        after, evs = _next(target, case.id, 1, case.last_hash)
        outbox = [OutboxRow(id=f"{case.id}:2:0:sms", case_id=case.id, seq=2, channel="sms",
                            created_at=T0, payload={"n": 1})]
        items.append(AppendItem(after, evs, 1, False, outbox))
    new_evs = make_events("N1", 1)
    items.append(AppendItem(make_case("N1", seq=1, last_hash=new_evs[-1].hash), new_evs, 0, False, ()))
    assert target.append_many(items) == [True, True, False, True, True, True, True]
    for case in stored:
        history = list(target.events(case.id))
        assert [e.seq for e in history] == [1, 2, 3]
        expected = won_events if case.id == "C2" else items[int(case.id[1])][1]
        assert [e.hash for e in history[1:]] == [e.hash for e in expected]
        assert target.load_case(case.id).seq == 3
    assert target.load_case("N1") is not None
    assert sorted(r.case_id for r in target.outbox()) == ["C0", "C1", "C3", "C4", "C5"]
    assert target.append_many([]) == []
    if kind == "sql":  # no claim left: the winner's append cleared the skipped case's
        assert store.due_cases(T0 + timedelta(days=2)) == []  # timers moved past
        with store.engine.connect() as conn:
            claimed = conn.exec_driver_sql(
                "SELECT count(*) FROM cases WHERE claimed_until IS NOT NULL").scalar()
        assert claimed == 0


def test_append_many_skips_a_new_case_whose_id_is_taken(store: SqlStore) -> None:
    store_case(store, "C1")
    evs, other = make_events("C1", 1), make_events("C2", 1)
    items: list[AppendItem] = [
        AppendItem(make_case("C1", seq=1, last_hash=evs[-1].hash), evs, 0, False, ()),
        AppendItem(make_case("C2", seq=1, last_hash=other[-1].hash), other, 0, False, ())]
    assert store.append_many(items) == [False, True]
    assert [e.seq for e in store.events("C1")] == [1]
    assert [e.seq for e in store.events("C2")] == [1]


def test_append_many_redoes_a_failed_bulk_transaction_case_by_case(sqlite_store: SqlStore) -> None:
    """A statement that fails in the bulk write rolls its transaction back; the redo with a
    savepoint per case writes the others exactly once and skips only the failing one."""
    store = sqlite_store
    stored = [store_case(store, f"C{i}") for i in range(3)]
    taken = make_events("C1", 1)  # a new case whose id is C1's: its INSERT fails
    items: list[AppendItem] = []
    for case in stored:
        after, evs = _next(store, case.id, 1, case.last_hash)
        items.append(AppendItem(after, evs, 1, False, ()))
    items.insert(1, AppendItem(make_case("C1", seq=1, last_hash=taken[-1].hash), taken, 0, False, ()))
    store.lock_budget = 600.0  # one transaction, however slow the machine
    statements: list[str] = []
    with traced(store, statements):
        assert store.append_many(items) == [True, False, True, True]
    assert statements.count("BEGIN IMMEDIATE") == 2  # the bulk try, then the redo
    assert statements.count("SAVEPOINT fe_case") == 4
    for case in stored:
        assert [e.seq for e in store.events(case.id)] == [1, 2, 3]
        assert store.load_case(case.id).seq == 3  # type: ignore[union-attr]


def test_append_many_without_failures_needs_no_savepoint(sqlite_store: SqlStore) -> None:
    """The common group (a lost race at most) is one transaction of plain statements: a
    case whose sequence check fails has written nothing, so nothing needs rolling back."""
    store = sqlite_store
    stored = [store_case(store, f"C{i}") for i in range(3)]
    won, won_events = _next(store, "C1", 1, stored[1].last_hash)
    store.append(won, won_events, 1)  # another worker moved C1 on
    items: list[AppendItem] = []
    for case in stored:
        after, evs = _next(store, case.id, 1, case.last_hash)
        items.append(AppendItem(after, evs, 1, False, ()))
    store.lock_budget = 600.0
    statements: list[str] = []
    with traced(store, statements):
        assert store.append_many(items) == [True, False, True]
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert not [s for s in statements if "SAVEPOINT" in s]
    assert [e.hash for e in store.events("C1")][1:] == [e.hash for e in won_events]


@pytest.fixture
def sqlite_store(tmp_path: Any) -> Iterator[SqlStore]:
    """An SQLite store: its statements can be traced (`traced`)."""
    s = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
    s.save_definition(DIGEST, PROCESS, "1", DEFINITION, DUPLICATE_KEY)
    yield s
    s.close()


def test_append_many_is_all_or_nothing_on_an_error_that_is_no_lost_race(
        store: SqlStore) -> None:
    ok, bad = make_events("C1", 1), make_events("C2", 1)
    orphan = replace(make_case("C2", seq=1, last_hash=bad[-1].hash), digest="e" * 64)
    items: list[AppendItem] = [
        AppendItem(make_case("C1", seq=1, last_hash=ok[-1].hash), ok, 0, False, ()),
        AppendItem(orphan, bad, 0, False, ())]  # its definition was never saved
    store.lock_budget = 600.0  # one transaction, however slow the machine
    with pytest.raises(StoreError, match="refused the statement") as caught:
        store.append_many(items)
    assert isinstance(caught.value.__cause__, store._held.integrity_error)  # kept for logs
    assert store.load_case("C1") is None and store.load_case("C2") is None


@pytest.mark.parametrize(("budget", "transactions"), [(600.0, 1), (0.0, 5)])
def test_append_many_commits_when_the_lock_budget_is_spent(
        store: SqlStore, monkeypatch: pytest.MonkeyPatch, budget: float,
        transactions: int) -> None:
    """A transaction commits once it has held the write lock for `lock_budget` and the
    rest follow in the next ones: the same cases are written or skipped either way."""
    stored = [store_case(store, f"C{i}") for i in range(5)]
    won, won_events = _next(store, "C3", 1, stored[3].last_hash)
    store.append(won, won_events, 1)  # another worker moved C3 on
    items: list[AppendItem] = []
    for case in stored:
        after, evs = _next(store, case.id, 1, case.last_hash)
        items.append(AppendItem(after, evs, 1, False, ()))
    begun: list[int] = []
    write = store._held.write

    def counted() -> Any:
        begun.append(1)
        return write()

    monkeypatch.setattr(store._held, "write", counted)
    store.lock_budget = budget
    assert store.append_many(items) == [True, True, True, False, True]
    assert len(begun) == transactions
    assert [store.load_case(c.id).seq for c in stored] == [3] * 5  # type: ignore[union-attr]
    assert [e.hash for e in store.events("C3")][1:] == [e.hash for e in won_events]


def test_append_many_in_one_transaction_answers_for_what_it_took(store: SqlStore) -> None:
    """`one_transaction`: only the first transaction is written (at least one case, however
    short the budget) and answered for; the caller passes the rest again."""
    stored = [store_case(store, f"C{i}") for i in range(3)]
    items: list[AppendItem] = []
    for case in stored:
        after, evs = _next(store, case.id, 1, case.last_hash)
        items.append(AppendItem(after, evs, 1, False, ()))
    store.lock_budget = 0.0
    assert store.append_many(items, one_transaction=True) == [True]
    assert [store.load_case(c.id).seq for c in stored] == [3, 1, 1]  # type: ignore[union-attr]
    store.lock_budget = 600.0
    assert store.append_many(items[1:], one_transaction=True) == [True, True]
    assert [store.load_case(c.id).seq for c in stored] == [3] * 3  # type: ignore[union-attr]


class Racing:
    """A store whose group commit lets another worker fire one of the cases first."""

    def __init__(self, inner: SqlStore, other: Engine, victim: str) -> None:
        self.inner, self.other, self.victim = inner, other, victim
        self.groups: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def append_many(self, items: Sequence[AppendItem]) -> list[bool]:
        self.groups.append(len(items))
        if any(case.id == self.victim for case, *_ in items):
            now = items[0][1][0].at
            assert [e.case_id for e in self.other._tick_group([self.victim], now)[0]] == [
                self.victim] * 2
        return self.inner.append_many(items)


def test_tick_commits_many_cases_in_groups_and_a_stale_one_is_skipped(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "TICK_GROUP", 4)
    clock = SimulatedClock(START)
    setup = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    ids = [to_mediation(setup) for _ in range(10)]
    due = max(cast(datetime, setup.case(i).deadlines["mediation"].due) for i in ids)
    setup.store.close()  # type: ignore[attr-defined]

    clock.set(due + timedelta(days=1))
    other = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    racing = Racing(SqlStore(db_url), other, victim=ids[5])
    engine = Engine(store=racing, processes=[PROCESSES], clock=clock)  # type: ignore[arg-type]
    seen: list[str] = []
    engine.subscribe(lambda events, case: seen.append(case.id))
    fired = engine.tick()
    assert racing.groups == [4, 4, 2]  # three transactions for ten cases
    assert sorted({e.case_id for e in fired}) == sorted(i for i in ids if i != ids[5])
    assert len(fired) == 18 and sorted(seen) == sorted(i for i in ids if i != ids[5])
    assert engine.tick() == []  # a second tick does nothing
    for case_id in ids:  # every case ran out exactly once, the chain intact
        assert engine.case(case_id).state == "court_advised"
        assert [e.type for e in engine.history(case_id)].count("timer") == 1
        assert_chain(engine, case_id)
    racing.inner.close()
    other.store.close()  # type: ignore[attr-defined]


class TakesNothing:
    """A host's store whose `append_many` takes `one_transaction` but answers for nothing
    when asked (against its contract): the tick must still write every case, and end."""

    def __init__(self, inner: SqlStore) -> None:
        self.inner, self.asked = inner, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def append_many(self, items: Sequence[AppendItem], *,
                    one_transaction: bool = False) -> list[bool]:
        if one_transaction:
            self.asked += 1
            assert self.asked < 50, "the tick kept asking"
            return []
        return self.inner.append_many(items)


def test_a_tick_whose_store_takes_nothing_in_one_transaction_writes_all(
        db_url: str) -> None:
    clock = SimulatedClock(START)
    setup = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    ids = [to_mediation(setup) for _ in range(3)]
    due = max(cast(datetime, setup.case(i).deadlines["mediation"].due) for i in ids)
    setup.store.close()  # type: ignore[attr-defined]
    store = TakesNothing(SqlStore(db_url))
    engine = Engine(store=store, processes=[PROCESSES],  # type: ignore[arg-type]
                    clock=SimulatedClock(due + timedelta(days=1)))
    assert len(engine.tick()) == 6 and engine.tick() == []
    assert store.asked == 1
    store.inner.close()


def test_tick_on_a_store_without_group_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    class Plain(MemoryStore):
        append_many = None  # type: ignore[assignment]  # a host's store from before group commit

    clock = SimulatedClock(START)
    engine = Engine(store=Plain(), processes=[PROCESSES], clock=clock)
    ids = [to_mediation(engine) for _ in range(3)]
    clock.set(max(cast(datetime, engine.case(i).deadlines["mediation"].due) for i in ids)
              + timedelta(days=1))
    fired = engine.tick()
    assert len(fired) == 6 and engine.tick() == []
    assert [e.sealed_body for e in fired] == [None] * 6  # written: no second copy kept


def test_a_skipped_case_keeps_the_claim_another_worker_took_since(store: SqlStore) -> None:
    """A tick paging without claims reads C1, another writer moves C1 on (its timer still
    due) and a third worker claims it; the first tick's stale append is skipped and must not
    clear that claim, or a fourth worker would take the case the third is working on."""
    soon = {"reply": deadline(due=T0 + timedelta(days=1))}
    evs = make_events("C1", 1)
    read = make_case("C1", seq=1, last_hash=evs[-1].hash, deadlines=soon)
    store.append(read, evs, 0)
    won_events = make_events("C1", 2, after=1, prev=read.last_hash)
    won = make_case("C1", seq=3, last_hash=won_events[-1].hash, deadlines=soon)
    store.append(won, won_events, 1)
    now = T0 + timedelta(days=2)
    assert store.due_cases(now) == ["C1"]  # the third worker's claim
    stale_after, stale_events = _next(store, "C1", 1, read.last_hash)
    assert store.append_many([AppendItem(stale_after, stale_events, 1, False, ())]) == [False]
    assert store.due_cases(now) == []  # still claimed: nobody else takes it
    stored = store.load_case("C1")
    assert stored is not None and stored.seq == 3
