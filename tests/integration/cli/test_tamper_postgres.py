"""The tamper tests on a real PostgreSQL server: the same plain-SQL edits, `audit verify`
and `replay` through the command line with `--db postgresql+psycopg://…`."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from .conftest import Cli
from .tamper_support import build_cases

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
