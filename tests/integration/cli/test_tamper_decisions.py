"""Tamper tests beyond the chain: histories forged with valid hashes and a matching case
record (caught by re-deciding each event), the columns the events determine (projection
flags and timer, the event rows' query columns) and the outbox, edited with plain SQL."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, Engine
from flowengine.store.sql import SqlStore
from tests.support.tamper import Sink, build_cases, forge

from .conftest import PROCESSES, Cli

ARCHIVE = {"trigger": "archive", "source": "investigating", "dest": "archived",
           "data": {}, "effects": (), "notifications": ()}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Two cases of eight events each whose notices went to the channels sms and mail."""
    path = tmp_path_factory.mktemp("decisions") / "cases.db"
    return path, build_cases(f"sqlite:///{path}", ("甲", "乙"), channels=("sms", "mail"))


@pytest.fixture
def copy(pristine: tuple[Path, list[str]], cli: Cli) -> tuple[Cli, list[str]]:
    shutil.copy(pristine[0], cli.db)
    return cli, pristine[1]


def _sql(db: Path, text: str, *params: object) -> None:
    con = sqlite3.connect(db)
    with con:
        assert con.execute(text, params).rowcount >= 1, text
    con.close()


def _broken(cli: Cli) -> list[tuple[str, int, str]]:
    r = cli("audit", "verify", "--json")
    assert r.code == 1 and "Traceback" not in r.stderr, r
    return [(b["case"], b["seq"], b["why"]) for b in r.json()["broken"]]


def test_the_untouched_store_with_an_outbox_verifies(copy: tuple[Cli, list[str]]) -> None:
    cli, _ = copy
    con = sqlite3.connect(cli.db)
    rows = con.execute("SELECT count(*), count(DISTINCT channel) FROM outbox").fetchone()
    con.close()
    assert rows[0] > 4 and rows[1] == 2
    assert cli("audit", "verify").code == 0


def test_a_resealed_copy_of_the_same_history_verifies(copy: tuple[Cli, list[str]]) -> None:
    """The forger's tool is faithful: rewriting events 4-8 unchanged is no finding, so the
    findings below come from what was changed."""
    cli, ids = copy
    forge(cli.url, ids[0], 3, [{}, {}, {}, {}, {}])
    assert cli("audit", "verify").code == 0


def test_a_forged_transition_with_a_valid_chain_is_caught(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    forge(cli.url, ids[1], 3, [ARCHIVE])
    assert cli("case", "show", ids[1], "--json").json()["state"] == "archived"
    [(case, seq, why)] = _broken(cli)
    assert (case, seq) == (ids[1], 4)
    assert "re-deciding it on the pinned definition refuses it" in why
    assert "not allowed in state 'investigating'" in why
    r = cli("replay", ids[1])
    assert r.code == 1 and "event 4" in r.stderr and "re-deciding" in r.stderr


def test_replay_without_redeciding_rebuilds_state_only(copy: tuple[Cli, list[str]]) -> None:
    """`redecide=False` (an embedder that only rebuilds state, and the replay benchmark's
    headline) folds the forged transition like any other: only re-deciding catches it."""
    from flowengine.audit.verify import replay_all

    cli, ids = copy
    forge(cli.url, ids[1], 3, [ARCHIVE])
    store = SqlStore(cli.url)
    try:
        assert replay_all(store, redecide=False).ok
        [problem] = replay_all(store).problems
        assert (problem.case_id, problem.seq) == (ids[1], 4)
    finally:
        store.close()


def test_a_fire_by_a_role_that_may_not_fire_it_is_caught(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    forge(cli.url, ids[0], 6, [{"actor": Actor("王芳", "clerk")}, {}])  # the deputy's sign_off
    [(case, seq, why)] = _broken(cli)
    assert (case, seq) == (ids[0], 7) and "needs the role" in why
    assert "(the actor's role is clerk)" in why


def test_a_forged_state_change_of_an_allowed_trigger_is_caught(
        copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    forge(cli.url, ids[0], 7, [{"dest": "closed"}])  # issue_reply straight to closed
    [(case, seq, why)] = _broken(cli)
    assert (case, seq) == (ids[0], 8) and "gives a different event (dest differ" in why


def test_a_forged_timer_is_caught(copy: tuple[Cli, list[str]]) -> None:
    """A timer event nobody's deadline asked for (the deadline marked overdue early)."""
    cli, ids = copy
    con = sqlite3.connect(cli.db)
    (effects,) = con.execute("SELECT json_extract(body, '$.effects') FROM events "
                             "WHERE case_id = ? AND seq = 2", (ids[0],)).fetchone()
    con.close()
    assert '"handling"' in effects
    forge(cli.url, ids[0], 2, [{"type": "timer", "trigger": None, "source": None,
                                "dest": None, "data": {}, "notifications": (),
                                "actor": Actor("system", "system"),
                                "effects": ({"deadline": "handling", "op": "overdue"},)}])
    [(case, seq, why)] = _broken(cli)
    assert (case, seq) == (ids[0], 3) and "no timer is due" in why


@pytest.mark.parametrize("column,value,shown", [
    ("next_timer_at", None, "next_timer_at"),
    ("overdue", 1, "overdue"),
    ("final", 1, "final"),
    ("dup_key", "ab" * 32, "dup_key"),
    ("provisional_from", 2027, "provisional_from"),
])
def test_a_column_the_events_determine_is_compared(cli: Cli, column: str, value: object,
                                                  shown: str) -> None:
    case_id = cli.start()  # registered: the acceptance deadline's timer is pending
    con = sqlite3.connect(cli.db)
    assert con.execute("SELECT next_timer_at FROM cases").fetchone()[0] is not None
    con.close()
    assert cli("audit", "verify").code == 0
    _sql(cli.db, f"UPDATE cases SET {column} = ? WHERE id = ?", value, case_id)
    [(case, seq, why)] = _broken(cli)
    assert (case, seq) == (case_id, 1) and f"{shown}: stored" in why


@pytest.mark.parametrize("column,value", [
    ("actor_name", "'李四'"), ("actor_role", "'principal'"), ("trigger", "'archive'"),
    ("dest", "'closed'"), ("type", "'timer'"), ("at", "'2026-03-01T00:00:00.000000+00:00'"),
    ("digest", "'nope'"), ("prev_hash", "'00'"), ("process_id", "'five_step'"),
])
def test_an_event_column_outside_the_hash_is_compared(copy: tuple[Cli, list[str]],
                                                     column: str, value: str) -> None:
    cli, ids = copy
    _sql(cli.db, f"UPDATE events SET {column} = {value} WHERE case_id = ? AND seq = 4", ids[1])
    [(case, seq, why)] = _broken(cli)
    assert (case, seq) == (ids[1], 4) and f"{column} column holds" in why


def test_two_events_with_swapped_case_ids_are_reported(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    q = "UPDATE events SET case_id = ? WHERE case_id = ? AND seq = ?"
    _sql(cli.db, q, "tmp", ids[0], 3)
    _sql(cli.db, q, ids[0], ids[1], 3)
    _sql(cli.db, q, ids[1], "tmp", 3)
    assert sorted((c, s) for c, s, _ in _broken(cli)) == sorted([(ids[0], 3), (ids[1], 3)])


def _outbox(db: Path, case_id: str) -> list[tuple[str, int]]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, seq FROM outbox WHERE case_id = ? ORDER BY seq, id",
                       (case_id,)).fetchall()
    con.close()
    return rows


def test_a_deleted_outbox_row_is_a_notice_never_sent(cli: Cli) -> None:
    """Notices at events 2, 4 and 5 (acceptance, two extensions) to sms and mail; the sms
    row of the middle one deleted."""
    store = SqlStore(cli.url)
    engine = Engine(store=store, processes=[PROCESSES], plugins=[Sink("sms"), Sink("mail")])
    t = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    case = engine.start("standard_case", {"petitioner": "甲", "subject": "噪音"},
                        actor=Actor("王芳", "clerk"), at=t)
    engine.fire(case.id, "accept", actor=Actor("王芳", "clerk"), at=t + timedelta(days=1))
    engine.fire(case.id, "investigate", actor=Actor("王芳", "clerk"), at=t + timedelta(days=2))
    for day in (3, 4):
        engine.fire(case.id, "extend", {"reason": "需要现场监测", "days": 10},
                    actor=Actor("赵", "deputy_leader"), at=t + timedelta(days=day))
    store.close()
    rows = _outbox(cli.db, case.id)
    assert sorted({seq for _, seq in rows}) == [2, 4, 5] and len(rows) == 6
    assert cli("audit", "verify").code == 0
    _sql(cli.db, "DELETE FROM outbox WHERE id = ?", f"{case.id}:4:0:sms")
    [(found, seq, why)] = _broken(cli)
    assert (found, seq) == (case.id, 4) and "no outbox row for sms" in why


@pytest.mark.parametrize("change", [
    "payload = replace(payload, '\"petitioner\"', '\"supervisor\"')",  # sent to another
    "channel = 'fax'", "created_at = '2027-01-01T00:00:00.000000+00:00'",
    "id = id || 'x'"])
def test_a_rewritten_outbox_row_is_reported(copy: tuple[Cli, list[str]], change: str) -> None:
    cli, ids = copy
    row_id, seq = _outbox(cli.db, ids[1])[0]
    _sql(cli.db, f"UPDATE outbox SET {change} WHERE id = ?", row_id)
    [(case, found, why)] = _broken(cli)
    assert case == ids[1] and "outbox row" in why
    assert found == seq or "is no notification" in why


def test_a_forged_due_date_before_any_provisional_year_is_caught(
        copy: tuple[Cli, list[str]]) -> None:
    """The shipped calendars are provisional from 2027 on. A due date decided wholly in 2026
    counted only official days, so re-deciding compares it exactly: the handling deadline
    of the acceptance moved 30 days later, sealed, with its record rewritten to match."""
    cli, ids = copy
    store = SqlStore(cli.url)
    accepted = list(store.events(ids[0]))[1]
    store.close()
    effects = []
    for e in accepted.effects:
        if e.get("op") == "started" and e.get("due_date"):
            later = (datetime.fromisoformat(e["due_date"]) + timedelta(days=30)).date()
            assert later.year == 2026
            e = {**e, "due_date": later.isoformat(),
                 "due": e["due"].replace(e["due_date"], later.isoformat())}
        effects.append(e)
    assert effects != list(accepted.effects)
    forge(cli.url, ids[0], 1, [{"effects": tuple(effects)}])
    [(case, seq, why)] = _broken(cli)
    assert (case, seq) == (ids[0], 2) and "effects" in why and "differ" in why
