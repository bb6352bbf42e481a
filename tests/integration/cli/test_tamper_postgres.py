"""The tamper tests on a real PostgreSQL server: the same plain-SQL edits, `audit verify`
and `replay` through the command line with `--db postgresql+psycopg://…`."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.support.tamper import build_cases, forge

from .conftest import Cli

pytestmark = pytest.mark.postgres


TAMPERS = {
    "event data": ("UPDATE events SET body = replace(body, '城管局', '公安局') "
                   "WHERE case_id = :c AND seq = 4", 4),
    "deleted event": ("DELETE FROM events WHERE case_id = :c AND seq = 5", 5),
    "swapped seq": ("UPDATE events SET seq = CASE seq WHEN 3 THEN 4 ELSE 3 END "
                    "WHERE case_id = :c AND seq IN (3, 4)", 3),
    "stored hash": ("UPDATE events SET hash = repeat('ab', 32) WHERE case_id = :c AND seq = 6",
                    6),
    "projection state": ("UPDATE cases SET state = 'closed' WHERE id = :c", 8),
    "every event": ("DELETE FROM events WHERE case_id = :c", 1),
}


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_tampering_is_named_on_postgresql(cli: Cli, pg_url: str, kind: str) -> None:
    ids = build_cases(pg_url, ("甲", "乙"))
    env = {"FLOWENGINE_DB": pg_url}
    assert cli("audit", "verify", env=env).code == 0
    statement, seq = TAMPERS[kind]
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        if kind == "swapped seq":  # (case_id, seq) is unique: move one row out of the way
            conn.execute(text("ALTER TABLE events DROP CONSTRAINT uq_events_case_seq"))
        conn.execute(text(statement), {"c": ids[1]})
    engine.dispose()
    r = cli("audit", "verify", "--json", env=env)
    assert r.code == 1, r
    assert [(b["case"], b["seq"]) for b in r.json()["broken"]] == [(ids[1], seq)]
    if kind != "every event":
        assert cli("replay", ids[1], env=env).code == 1
    assert cli("replay", ids[0], env=env).code == 0


# Stored garbage PostgreSQL's column types let through: text that is not JSON or not the
# right JSON, impossible numbers, and timestamps the driver cannot convert ('infinity').
GARBAGE = {
    "data not JSON": "UPDATE cases SET data = 'not json' WHERE id = :c",
    "data a list": "UPDATE cases SET data = '[]' WHERE id = :c",
    "deadlines wrong shape": "UPDATE cases SET deadlines = '[1]' WHERE id = :c",
    "deadline date": "UPDATE cases SET deadlines = replace(deadlines, "
                     "'\"due_date\":\"2026-03-17\"', '\"due_date\":\"soon\"') WHERE id = :c",
    "seq zero": "UPDATE cases SET seq = 0 WHERE id = :c",
    "state empty": "UPDATE cases SET state = '' WHERE id = :c",
    "created_at infinity": "UPDATE cases SET created_at = 'infinity' WHERE id = :c",
    "next_timer_at infinity": "UPDATE cases SET next_timer_at = 'infinity' WHERE id = :c",
    "claimed_until -infinity": "UPDATE cases SET claimed_until = '-infinity' WHERE id = :c",
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_stored_garbage_is_a_named_broken_case_on_postgresql(cli: Cli, pg_url: str,
                                                             kind: str) -> None:
    ids = build_cases(pg_url, ("甲", "乙"))
    env = {"FLOWENGINE_DB": pg_url}
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        assert conn.execute(text(GARBAGE[kind]), {"c": ids[1]}).rowcount == 1
    engine.dispose()
    r = cli("audit", "verify", "--json", env=env)
    assert r.code == 1 and "Traceback" not in r.stderr, r
    assert [(b["case"], b["seq"]) for b in r.json()["broken"]] == [(ids[1], 8)]
    r = cli("replay", ids[1], env=env)
    assert r.code == 1 and f"case {ids[1]}" in r.stderr and "Traceback" not in r.stderr
    assert cli("replay", ids[0], env=env).code == 0


def test_a_deleted_definition_is_named_on_postgresql(cli: Cli, pg_url: str) -> None:
    ids = build_cases(pg_url, ("甲",))
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE cases DROP CONSTRAINT cases_digest_fkey"))
        assert conn.execute(text("DELETE FROM definitions WHERE digest = (SELECT digest "
                                 "FROM cases WHERE id = :c)"), {"c": ids[0]}).rowcount == 1
    engine.dispose()
    r = cli("audit", "verify", "--json", env={"FLOWENGINE_DB": pg_url})
    assert r.code == 1 and [(b["case"], b["seq"]) for b in r.json()["broken"]] == [(ids[0], 1)]
    r = cli("replay", ids[0], env={"FLOWENGINE_DB": pg_url})
    assert r.code == 1 and "is not stored" in r.stderr and "Traceback" not in r.stderr


def test_a_forged_transition_with_a_valid_chain_is_caught_on_postgresql(
        cli: Cli, pg_url: str) -> None:
    """Events 4-8 replaced by one `archive` from investigating, sealed with valid hashes,
    the case record rewritten to match: only re-deciding the event catches it."""
    ids = build_cases(pg_url, ("甲", "乙"))
    env = {"FLOWENGINE_DB": pg_url}
    forge(pg_url, ids[0], 3, [{"trigger": "archive", "source": "investigating",
                               "dest": "archived", "data": {}, "effects": (),
                               "notifications": ()}])
    r = cli("audit", "verify", "--json", env=env)
    assert r.code == 1, r
    [broken] = r.json()["broken"]
    assert (broken["case"], broken["seq"]) == (ids[0], 4)
    assert "not allowed in state 'investigating'" in broken["why"]
    assert cli("replay", ids[1], env=env).code == 0


# The tampers of test_tamper_decisions.py and test_tamper_definitions.py, on PostgreSQL:
# (statement on case :c, the event named, words of the reason)
DERIVED = {
    "edited definition text": ("UPDATE definitions SET text = replace(text, 'length: 60 days', "
                               "'length: 90 days') WHERE digest = (SELECT digest FROM cases "
                               "WHERE id = :c)", 1, "definition"),
    "next_timer_at changed": ("UPDATE cases SET next_timer_at = '2026-04-01T00:00:00+00' "
                              "WHERE id = :c", 8, "next_timer_at: stored"),
    "final set": ("UPDATE cases SET final = true WHERE id = :c", 8, "final: stored"),
    "event actor_role column": ("UPDATE events SET actor_role = 'principal' WHERE case_id = :c "
                                "AND seq = 4", 4, "actor_role column holds"),
    "outbox row to another": ("UPDATE outbox SET payload = replace(payload, '\"petitioner\"', "
                              "'\"supervisor\"') WHERE case_id = :c AND seq = 2", 2,
                              "outbox row"),
    "outbox row to another channel": ("UPDATE outbox SET channel = 'fax' WHERE case_id = :c "
                                      "AND seq = 2", 2, "outbox row"),
}


@pytest.mark.parametrize("kind", sorted(DERIVED))
def test_derived_columns_definitions_and_outbox_on_postgresql(cli: Cli, pg_url: str,
                                                               kind: str) -> None:
    ids = build_cases(pg_url, ("甲", "乙"), channels=("sms", "mail"))
    env = {"FLOWENGINE_DB": pg_url}
    assert cli("audit", "verify", env=env).code == 0
    statement, seq, words = DERIVED[kind]
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        assert conn.execute(text(statement), {"c": ids[1]}).rowcount >= 1
    engine.dispose()
    r = cli("audit", "verify", "--json", env=env)
    assert r.code == 1 and "Traceback" not in r.stderr, r
    doc = r.json()
    if kind == "edited definition text":  # both cases share the version: both broken
        assert doc["broken_definitions"] and {b["seq"] for b in doc["broken"]} == {1}
        return
    assert [(b["case"], b["seq"]) for b in doc["broken"]] == [(ids[1], seq)]
    assert words in doc["broken"][0]["why"]
