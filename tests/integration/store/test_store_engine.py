"""The engine on the durable store, on SQLite and PostgreSQL: a shipped procedure driven to
mediation, its 30-working-day period running out by itself on `tick`, a second tick at the
same instant doing nothing, and every case surviving the engine being closed and reopened.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.errors import ConcurrentUpdate, TriggerRejected
from flowengine.plugins import hookimpl
from flowengine.records.case import Actor
from flowengine.records.events import GENESIS, canonical, chain_hash
from flowengine.store.codec import dump_data, dup_key
from tests.support.store import CST

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
RECEPTION = Actor("王芳", "reception")
DIRECTOR = Actor("李明", "office_director")
START = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
COMPLAINT = {"complainant": "张某", "relation": "guardian", "patient": "张小某",
             "department_kind": "outpatient", "claim_amount": "35000"}


def to_mediation(engine: Engine, data: dict[str, str] | None = None) -> str:
    case = engine.start("medical_dispute", data=data or COMPLAINT, actor=RECEPTION)
    engine.fire(case.id, "verify_identity", actor=RECEPTION)
    engine.fire(case.id, "determine", actor=DIRECTOR,
                data={"category": "medical_quality", "cause": "hospital",
                      "responsibility": "hospital"})
    engine.fire(case.id, "give_feedback", actor=DIRECTOR)
    assert engine.fire(case.id, "route_claim", actor=DIRECTOR).state == "mediation_guided"
    engine.fire(case.id, "apply_mediation", actor=DIRECTOR,
                data={"mediation_committee": "区医调委"})
    engine.fire(case.id, "accept_mediation", actor=Actor("周某", "mediator"))
    return case.id


def assert_chain(engine: Engine, case_id: str) -> None:
    prev = GENESIS
    for seq, event in enumerate(engine.history(case_id), start=1):
        assert (event.seq, event.prev_hash) == (seq, prev)
        assert event.hash == chain_hash(event.body())
        prev = event.hash
    assert engine.case(case_id).last_hash == prev


def test_mediation_runs_out_by_itself_and_cases_survive_a_restart(db_url: str) -> None:
    clock = SimulatedClock(START)
    engine = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    case_id = to_mediation(engine)
    due = engine.case(case_id).deadlines["mediation"].due
    assert due is not None and due > START + timedelta(days=40)  # 30 working days

    clock.set(due - timedelta(minutes=1))
    assert engine.tick() == []
    clock.set(due + timedelta(days=1))
    fired = engine.tick()
    assert [(e.type, e.trigger) for e in fired] == [("timer", None),
                                                    ("fired", "mediation_failed")]
    assert [f["op"] for f in fired[0].effects] == ["expired"]
    assert engine.tick() == []  # the same instant again: nothing is due
    after = engine.case(case_id)
    assert after.state == "court_advised" and after.deadlines["mediation"].status == "expired"
    history = [canonical(e.body()) for e in engine.history(case_id)]
    engine.store.close()  # type: ignore[attr-defined]

    reopened = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    assert reopened.case(case_id) == after
    assert [canonical(e.body()) for e in reopened.history(case_id)] == history
    assert reopened.tick() == []
    assert_chain(reopened, case_id)
    digest = after.digest
    text = reopened.store.definition_text(digest)
    assert text == (PROCESSES / "medical_dispute.yaml").read_text(encoding="utf-8")
    reopened.store.close()  # type: ignore[attr-defined]


def test_duplicate_petitions_are_linked_while_the_first_is_open(db_url: str) -> None:
    clock = SimulatedClock(START)
    engine = Engine(db=db_url, processes=[PROCESSES], clock=clock)
    first = to_mediation(engine)
    other = engine.start("medical_dispute", data={**COMPLAINT, "patient": "王小某"},
                         actor=RECEPTION)
    assert other.duplicate_of is None
    again = engine.start("medical_dispute", data=COMPLAINT, actor=RECEPTION)
    assert again.duplicate_of == first
    assert engine.case(again.id).duplicate_of == first

    clock.advance(timedelta(days=60))
    engine.tick()  # mediation ran out: court_advised
    engine.fire(first, "withdraw", {"withdraw_reason": "患方撤回"}, actor=DIRECTOR)
    engine.fire(first, "archive", actor=DIRECTOR)
    engine.fire(again.id, "verify_identity", actor=RECEPTION)
    # the first case is final now; the second one (still open) is what a third start finds
    third = engine.start("medical_dispute", data=COMPLAINT, actor=RECEPTION)
    assert third.duplicate_of == again.id
    engine.store.close()  # type: ignore[attr-defined]


def test_a_fire_without_data_keeps_the_data_text_and_key_a_fire_with_data_rewrites(
        db_url: str) -> None:
    """An append whose events change no data takes the data text and duplicate key of the
    row the store holds at the expected sequence number instead of encoding them again:
    after fires of both kinds, the stored columns are what encoding the case gives."""
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(START))
    store: Any = engine.store
    case = engine.start("medical_dispute", data=COMPLAINT, actor=RECEPTION)
    fields = store._dup_fields(case.digest)
    assert fields  # the procedure declares a duplicate key: the column is not empty

    def stored() -> tuple[str, str]:
        with store.engine.connect() as conn:
            row = conn.execute(sqlalchemy.text(
                "SELECT data, dup_key FROM cases WHERE id = :id"), {"id": case.id}).one()
        return row[0], row[1]

    for trigger, data in (("verify_identity", None),
                          ("determine", {"category": "medical_quality", "cause": "hospital",
                                         "responsibility": "hospital"}),
                          ("give_feedback", None)):
        after = engine.fire(case.id, trigger, data, actor=DIRECTOR)
        assert stored() == (dump_data(after.data),
                            dup_key(after.process_id, fields, after.data))
    store.close()


def test_the_held_case_is_handed_out_once_then_read(db_url: str) -> None:
    """`recent_case` gives the held projection to one caller (it folds into it: no copy
    is made for it); a second caller before the next write gets None and reads the case,
    so two threads firing one case never share one object."""
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(START))
    store: Any = engine.store
    case = engine.start("medical_dispute", data=COMPLAINT, actor=RECEPTION)
    first = store.recent_case(case.id)
    assert first == case and first is not case  # the caller's returned case is its own
    assert store.recent_case(case.id) is None
    after = engine.fire(case.id, "verify_identity", actor=RECEPTION)  # from a fresh read
    assert after.seq == 2 and first.seq == 1
    assert store.recent_case(case.id) == after  # held again after the write
    store.close()


def test_a_host_engine_is_used_as_given_and_left_open(tmp_path: Path) -> None:
    host = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'host.db'}")
    engine = Engine(db=host, processes=[PROCESSES], clock=SimulatedClock(START))
    case_id = to_mediation(engine)
    engine.store.close()  # type: ignore[attr-defined]
    with host.connect() as conn:  # still usable: the store did not dispose of it
        states = conn.exec_driver_sql("SELECT state FROM cases").scalars().all()
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert states == ["mediation"] and mode == "wal"
    again = Engine(db=host, processes=[PROCESSES], clock=SimulatedClock(START))
    assert again.case(case_id).state == "mediation"


def test_an_event_body_is_stored_as_the_text_it_was_hashed_from(db_url: str) -> None:
    """The body goes to the database as the UTF-8 bytes it was hashed from (SQLite) or as
    text (PostgreSQL): either way the column holds text, the same characters, and the
    chain verifies from it."""
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(START))
    case_id = to_mediation(engine)
    with engine.store.engine.connect() as conn:  # type: ignore[attr-defined]
        kinds = ("typeof(body)" if conn.dialect.name == "sqlite"
                 else "pg_typeof(body)::text")
        rows = conn.exec_driver_sql(
            f"SELECT seq, body, {kinds} FROM events WHERE case_id = '{case_id}' "
            "ORDER BY seq").all()
    history = engine.history(case_id)
    assert [(seq, body) for seq, body, _ in rows] == [
        (e.seq, canonical(e.body())) for e in history]
    assert {kind for *_, kind in rows} == {"text"}
    assert "区医调委" in rows[-2][1]  # not escaped: the characters themselves
    assert_chain(engine, case_id)
    engine.store.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("level", ["full", "normal"])
def test_sqlite_durability_settings(tmp_path: Path, level: str) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}" + ("" if level == "full" else "?synchronous=normal")
    engine = Engine(db=url, processes=[PROCESSES], clock=SimulatedClock(START))
    with engine.store.engine.connect() as conn:  # type: ignore[attr-defined]
        pragmas = [conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                   for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")]
    assert pragmas == ["wal", {"full": 2, "normal": 1}[level], 1, 30000]
    engine.store.close()  # type: ignore[attr-defined]


def test_one_engine_shared_by_threads(db_url: str) -> None:
    """A web host's case: one Engine, several request threads firing on the same cases."""
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(START))
    ids = [to_mediation(engine, {**COMPLAINT, "patient": f"患者{i}"}) for i in range(3)]
    mediator = Actor("调解员", "mediator")
    outcomes: list[str] = []

    def work(n: int) -> None:
        for i in range(12):
            case_id = ids[(n + i) % len(ids)]
            trigger = {"mediation": "request_appraisal", "appraisal": "appraisal_done"}
            try:
                state = engine.case(case_id).state
                engine.fire(case_id, trigger[state], actor=mediator,
                            data={"appraisal_result": "无过错"} if state == "appraisal" else {})
                outcomes.append("fired")
            except ConcurrentUpdate:
                outcomes.append("conflict")
            except TriggerRejected:
                outcomes.append("moved on")
            except Exception as exc:  # noqa: BLE001 - any other error fails the test below
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(outcomes) <= {"fired", "conflict", "moved on"}, outcomes
    assert outcomes.count("fired") > 0
    for case_id in ids:
        assert_chain(engine, case_id)
    engine.store.close()  # type: ignore[attr-defined]


class RejectionLog:
    """Records the trigger-rejected hook (it must fire only for a final refusal)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def flowengine_trigger_rejected(self, trigger: str) -> None:
        self.seen.append(trigger)


def test_a_fire_planned_from_a_stale_held_case_is_decided_again_on_a_fresh_read(
        db_url: str) -> None:
    """Two engines on one database (two processes, in effect). Each holds the projection
    it last wrote; after the other engine moved the case on, a fire planned from the held
    one is refused or loses the sequence check, and is then decided on a fresh read:
    the outcome is the fresh read's, the history stays gap-free, and a refusal that a
    fresh read does not confirm never reaches the plugins."""
    clock = SimulatedClock(START)
    log = RejectionLog()
    mine = Engine(db_url, processes=[PROCESSES], clock=clock, plugins=[log])
    theirs = Engine(db_url, processes=[PROCESSES], clock=clock, plugins=[])
    case = mine.start("medical_dispute", data=COMPLAINT, actor=RECEPTION)
    store: Any = mine.store
    taken: list[Any] = []  # what the store handed the engine to plan from (held after its write)
    held = store.recent_case

    def recent_case(case_id: str) -> Any:
        taken.append(held(case_id))
        return taken[-1]

    store.recent_case = recent_case
    theirs.fire(case.id, "verify_identity", actor=RECEPTION)
    # held state 'registered' refuses 'determine'; the fresh read ('verified') allows it
    after = mine.fire(case.id, "determine", actor=DIRECTOR,
                      data={"category": "medical_quality", "cause": "hospital",
                            "responsibility": "hospital"})
    assert taken == [case]  # planned from the held projection first
    assert (after.state, after.seq) == (theirs.case(case.id).state, 3)
    assert log.seen == []
    theirs.fire(case.id, "give_feedback", actor=DIRECTOR)
    # held case allows 'give_feedback' again, but the store moved on: the append's seq
    # check fails, and the fresh read refuses it (already given): a real refusal
    with pytest.raises(TriggerRejected):
        mine.fire(case.id, "give_feedback", actor=DIRECTOR)
    assert log.seen == ["give_feedback"]
    assert mine.fire(case.id, "route_claim", actor=DIRECTOR).state == "mediation_guided"
    assert [e.seq for e in mine.history(case.id)] == [1, 2, 3, 4, 5]
    assert_chain(mine, case.id)
    mine.store.close()  # type: ignore[attr-defined]
    theirs.store.close()  # type: ignore[attr-defined]
