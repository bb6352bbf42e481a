"""Group commit of concurrent appends (`SqlStore(group_commit=True)`, store/group.py), on a
real SQLite file and a real PostgreSQL server: appends queued while a transaction is being
committed share the next one; each append's failure is its own (nothing of it stored,
the others committed); every append that returned is stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_store_engine import PROCESSES, START

from flowengine.audit.verify import verify_store
from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.errors import ConcurrentUpdate
from flowengine.records.case import Actor
from flowengine.store.errors import DatabaseUnavailable
from flowengine.store.group import GroupCommit, _Request
from flowengine.store.sql import SqlStore
from tests.support.sql import traced
from tests.support.store import make_case, make_events


def scratch(store: SqlStore) -> GroupCommit:
    """A group committer on `store`'s connections, and an empty table to write."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS scratch")
        conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER PRIMARY KEY)")
    return GroupCommit(store._held)


def insert(x: int, fail: bool = False) -> Callable[[Any], None]:
    def work(cur: Any) -> None:
        cur.execute(f"INSERT INTO scratch (x) VALUES ({x})")
        if fail:
            raise ValueError(f"refused after writing {x}")
    return work


def rows(store: SqlStore) -> set[int]:
    with store.engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql("SELECT x FROM scratch")}


def in_thread(group: GroupCommit, work: Callable[[Any], None],
              outcome: dict[str, Any], key: str) -> threading.Thread:
    def run() -> None:
        try:
            group.run(work)
            outcome[key] = "ok"
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome[key] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the threads did not get there in 30 s"
        time.sleep(0.001)


def queued(group: GroupCommit, n: int) -> Callable[[], bool]:
    return lambda: len(group._queue) == n


def queue_behind(group: GroupCommit, threads: list[threading.Thread], outcome: dict[str, Any],
                 works: tuple[tuple[str, Callable[[Any], None]], ...]) -> None:
    """Start an append per `(key, work)`, each once the one before it has queued."""
    for key, work in works:
        threads.append(in_thread(group, work, outcome, key))
        wait_for(queued(group, len(threads) - 1))


def join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(30)


def test_appends_queued_while_the_leader_writes_join_its_transaction(store: SqlStore) -> None:
    """Appends that queue while the leader's statements run are taken into its transaction
    before the COMMIT (one flush for all); each keeps its own outcome. On SQLite the append
    that raised after writing spoils the first attempt, which is redone with savepoints."""
    group = scratch(store)
    outcome: dict[str, Any] = {}
    release = threading.Event()

    def leader(cur: Any) -> None:  # holds the first transaction until four appends wait
        release.wait(30)
        cur.execute("INSERT INTO scratch (x) VALUES (1)")

    threads = [in_thread(group, leader, outcome, "leader")]
    wait_for(lambda: group._leading)
    queue_behind(group, threads, outcome, (("b", insert(2)), ("c", insert(2)),
                                           ("d", insert(3, fail=True)), ("e", insert(4))))
    release.set()
    join(threads)
    assert outcome["leader"] == outcome["b"] == outcome["e"] == "ok"
    assert isinstance(outcome["c"], store._held.integrity_error)  # the same key as b
    assert isinstance(outcome["d"], ValueError)  # its own write rolled back
    assert rows(store) == {1, 2, 4}
    assert (group.batches, group.appends) == (1, 3)
    assert group.redone == (1 if store.engine.dialect.name == "sqlite" else 0)


def test_appends_queued_during_a_commit_share_the_next_one(store: SqlStore) -> None:
    group = scratch(store)
    outcome: dict[str, Any] = {}
    release, committing = threading.Event(), threading.Event()
    write = store._held.write

    @contextmanager
    def slow_commit(wait: bool = True) -> Iterator[Any]:  # the first COMMIT waits until
        with write(wait) as cur:  # three appends queue
            yield cur
            committing.set()
            release.wait(30)

    group._checkout = cast(Any, SimpleNamespace(write=slow_commit, flush=store._held.flush))
    threads = [in_thread(group, insert(1), outcome, "leader")]
    assert committing.wait(30)
    queue_behind(group, threads, outcome, (("b", insert(2)), ("c", insert(2)), ("d", insert(3))))
    release.set()
    join(threads)
    assert outcome["leader"] == outcome["b"] == outcome["d"] == "ok"
    assert isinstance(outcome["c"], store._held.integrity_error)
    assert rows(store) == {1, 2, 3}
    assert (group.batches, group.appends) == (2, 3)


def test_sqlite_batch_needs_no_savepoint_unless_an_append_spoils_it(tmp_path: Path) -> None:
    """An append that fails before changing a row (here a taken key, in the engine a lost
    sequence race) has nothing to roll back: the batch is plain statements. One that fails
    after writing makes the batch run again with a savepoint per append."""
    store = SqlStore(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        for plan, savepoints in ((("ok", "taken", "ok"), 0), (("ok", "refused", "ok"), 3)):
            group = scratch(store)
            statements: list[str] = []
            with traced(store, statements):
                batch = [_Request(insert(1)),
                         _Request(insert(1 if plan[1] == "taken" else 2,
                                         fail=plan[1] == "refused")),
                         _Request(insert(3))]
                group._commit(batch)
            assert rows(store) == {1, 3}
            assert [r.error is None for r in batch] == [True, False, True]
            assert sum(s == "SAVEPOINT fe_group" for s in statements) == savepoints
            assert group.redone == (1 if savepoints else 0)
    finally:
        store.close()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["ok", "refused"]), min_size=1, max_size=12))
def test_each_thread_gets_its_own_outcome(store: SqlStore, plan: list[str]) -> None:
    """Property: whatever mix of appends that commit and appends that fail runs at once,
    exactly the ones that returned are stored, and each caller sees its own result."""
    group = scratch(store)
    outcome: dict[str, Any] = {}
    threads = [in_thread(group, insert(i, fail=kind == "refused"), outcome, str(i))
               for i, kind in enumerate(plan)]
    join(threads)
    returned = {i for i, kind in enumerate(plan) if outcome[str(i)] == "ok"}
    assert returned == {i for i, kind in enumerate(plan) if kind == "ok"}
    assert all(isinstance(outcome[str(i)], ValueError)
               for i, kind in enumerate(plan) if kind == "refused")
    assert rows(store) == returned


def test_a_stale_append_raises_concurrent_update_and_spoils_nothing(db_url: str) -> None:
    store = SqlStore(db_url, group_commit=True)
    from tests.support.store import DEFINITION, DIGEST, PROCESS

    store.save_definition(DIGEST, PROCESS, "1", DEFINITION)
    try:
        first = make_events("C1", 1)
        store.append(make_case("C1", seq=1, last_hash=first[-1].hash), first, 0)
        later = make_events("C1", 1, after=1, prev=first[-1].hash)
        store.append(make_case("C1", seq=2, last_hash=later[-1].hash), later, 1)
        with pytest.raises(ConcurrentUpdate):  # seq 1 is no longer the stored one
            store.append(make_case("C1", seq=2, last_hash=later[-1].hash), later, 1)
        other = make_events("C2", 1)
        store.append(make_case("C2", seq=1, last_hash=other[-1].hash), other, 0)
        assert store.load_case("C1").seq == 2  # type: ignore[union-attr]
        assert store.load_case("C2") is not None
        assert store.group is not None and store.group.appends == 3
    finally:
        store.close()


def test_threads_firing_through_the_engine_are_all_stored_and_verify(db_url: str) -> None:
    store = SqlStore(db_url, group_commit=True)
    engine = Engine(store=store, processes=[PROCESSES], clock=SimulatedClock(START),
                    plugins=[])
    reception = Actor("王芳", "reception")
    director = Actor("李明", "office_director")
    ids = [engine.start("medical_dispute", actor=reception, data={
        "complainant": f"投诉人{i}", "relation": "patient", "patient": f"患者{i}",
        "department_kind": "inpatient", "claim_amount": "35000.00"}).id for i in range(24)]
    steps = [("verify_identity", reception, {}),
             ("determine", director, {"category": "medical_quality", "cause": "hospital",
                                      "responsibility": "hospital"}),
             ("give_feedback", director, {})]
    errors: list[BaseException] = []

    def firer(mine: list[str]) -> None:
        try:
            for trigger, actor, data in steps:
                for case_id in mine:
                    engine.fire(case_id, trigger, data=data, actor=actor)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    before = store.group.appends if store.group else 0
    threads = [threading.Thread(target=firer, args=(ids[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert errors == []
        assert store.group is not None
        assert store.group.appends - before == len(ids) * len(steps)
        assert all(store.load_case(c).seq == 1 + len(steps) for c in ids)  # type: ignore[union-attr]
        report = verify_store(store, engine.registry)
        assert report.ok, report
    finally:
        store.close()


def test_the_url_turns_it_on_and_refuses_a_wrong_value(tmp_path: Path) -> None:
    on = SqlStore(f"sqlite:///{tmp_path / 'a.db'}?group_commit=on")
    off = SqlStore(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        assert on.group is not None and off.group is None
    finally:
        on.close()
        off.close()
    with pytest.raises(DatabaseUnavailable, match="group_commit must be on or off, not 'maybe'"):
        SqlStore(f"sqlite:///{tmp_path / 'c.db'}?group_commit=maybe")
