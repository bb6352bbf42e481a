"""Tamper tests: change the database with plain SQL (sqlite3, no flowengine code) and check
that `flowengine audit verify` exits 1 naming the case and the event each time, and that
`flowengine replay` of that case exits 1 too. An untouched copy exits 0."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from flowengine.store.sql import SqlStore
from tests.support.tamper import build_cases

from .conftest import Cli


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Three cases of eight events each, in a SQLite file closed cleanly (WAL checkpointed)."""
    path = tmp_path_factory.mktemp("pristine") / "cases.db"
    return path, build_cases(f"sqlite:///{path}", ("甲", "乙", "丙"))


@pytest.fixture
def copy(pristine: tuple[Path, list[str]], cli: Cli) -> tuple[Cli, list[str]]:
    shutil.copy(pristine[0], cli.db)
    return cli, pristine[1]


def _sql(db: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    con = sqlite3.connect(db)
    with con:
        for text, params in statements:
            assert con.execute(text, params).rowcount == 1, text
    con.close()


def _broken(cli: Cli) -> list[tuple[str, int]]:
    r = cli("audit", "verify", "--json")
    assert r.code == 1, r
    doc = r.json()
    assert doc["ok"] is False
    text = cli("audit", "verify")
    assert text.code == 1
    for b in doc["broken"]:
        assert f"BROKEN case {b['case']}: event {b['seq']}: " in text.stdout
    return [(b["case"], b["seq"]) for b in doc["broken"]]


def _replay_fails(cli: Cli, case_id: str, seq: int) -> None:
    r = cli("replay", case_id)
    assert r.code == 1
    assert f"case {case_id}" in r.stderr and "Traceback" not in r.stderr
    if seq:
        assert f"event {seq}" in r.stderr


def test_untouched_database_verifies(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    r = cli("audit", "verify", "--json")
    assert r.code == 0 and r.json()["ok"] and r.json()["events"] == 24
    for case_id in ids:
        assert cli("replay", case_id).code == 0


def test_changed_data_value_in_an_event_body(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    _sql(cli.db, ("UPDATE events SET body = replace(body, '城管局', '公安局') "
                  "WHERE case_id = ? AND seq = 4", (ids[1],)))
    assert _broken(cli) == [(ids[1], 4)]
    _replay_fails(cli, ids[1], 4)


def test_deleted_event(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    _sql(cli.db, ("DELETE FROM events WHERE case_id = ? AND seq = 5", (ids[0],)))
    assert _broken(cli) == [(ids[0], 5)]
    _replay_fails(cli, ids[0], 5)


def test_every_event_of_a_case_deleted(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    con = sqlite3.connect(cli.db)
    with con:
        assert con.execute("DELETE FROM events WHERE case_id = ?", (ids[1],)).rowcount == 8
    con.close()
    assert _broken(cli) == [(ids[1], 1)]
    assert "no events" in cli("audit", "verify").stdout


def test_deleted_last_event(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    _sql(cli.db, ("DELETE FROM events WHERE case_id = ? AND seq = 8", (ids[2],)))
    assert _broken(cli) == [(ids[2], 8)]


def test_reordered_events(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    q = "UPDATE events SET seq = ? WHERE case_id = ? AND seq = ?"
    _sql(cli.db, (q, (-1, ids[2], 3)), (q, (3, ids[2], 4)), (q, (4, ids[2], -1)))
    assert _broken(cli) == [(ids[2], 3)]
    _replay_fails(cli, ids[2], 3)


def test_reordered_rows_by_swapping_bodies(copy: tuple[Cli, list[str]]) -> None:
    """Swap the whole rows' content (body and hash) between seq 6 and 7."""
    cli, ids = copy
    con = sqlite3.connect(cli.db)
    rows = dict(con.execute("SELECT seq, body || char(0) || hash FROM events "
                            "WHERE case_id = ? AND seq IN (6, 7)", (ids[0],)).fetchall())
    con.close()
    q = "UPDATE events SET body = ?, hash = ? WHERE case_id = ? AND seq = ?"
    b6, h6 = rows[6].split("\0")
    b7, h7 = rows[7].split("\0")
    _sql(cli.db, (q, (b7, h7, ids[0], 6)), (q, (b6, h6, ids[0], 7)))
    assert _broken(cli) == [(ids[0], 6)]


@pytest.mark.parametrize("body", ["not json at all", "{}", '{"seq": "x"}', "[]"])
def test_unreadable_event_body(copy: tuple[Cli, list[str]], body: str) -> None:
    cli, ids = copy
    _sql(cli.db, ("UPDATE events SET body = ? WHERE case_id = ? AND seq = 3", (body, ids[0])))
    assert _broken(cli) == [(ids[0], 3)]
    _replay_fails(cli, ids[0], 3)
    for args in (("case", "show", ids[0]), ("export", ids[0], "--format", "csv")):
        r = cli(*args)
        assert r.code == 1 and f"case {ids[0]}: event 3: the stored event cannot be read" \
            in r.stderr and "Traceback" not in r.stderr, (args, r)


def test_changed_stored_hash(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    _sql(cli.db, ("UPDATE events SET hash = ? WHERE case_id = ? AND seq = 6",
                  ("ab" * 32, ids[1])))
    assert _broken(cli) == [(ids[1], 6)]
    _replay_fails(cli, ids[1], 6)


def test_resealed_forgery_breaks_the_next_link(copy: tuple[Cli, list[str]]) -> None:
    """A forger who rewrites an event and recomputes its hash is caught one event later."""
    cli, ids = copy
    con = sqlite3.connect(cli.db)
    (body,) = con.execute("SELECT body FROM events WHERE case_id = ? AND seq = 4",
                          (ids[0],)).fetchone()
    con.close()
    doc = json.loads(body)
    doc["data"]["department"] = "公安局"
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(forged.encode()).hexdigest()
    _sql(cli.db, ("UPDATE events SET body = ?, hash = ? WHERE case_id = ? AND seq = 4",
                  (forged, digest, ids[0])))
    assert _broken(cli) == [(ids[0], 5)]


@pytest.mark.parametrize("column,value", [
    ("state", "closed"),
    ("data", '{"petitioner":"甲"}'),
    ("deadlines", "[]"),
    ("seq", 7),
])
def test_edited_projection(copy: tuple[Cli, list[str]], column: str, value: object) -> None:
    cli, ids = copy
    _sql(cli.db, (f"UPDATE cases SET {column} = ? WHERE id = ?", (value, ids[1])))
    broken = _broken(cli)
    assert [case for case, _ in broken] == [ids[1]]
    assert broken[0][1] in (7, 8)
    _replay_fails(cli, ids[1], 0)


def test_every_broken_case_is_named(copy: tuple[Cli, list[str]]) -> None:
    cli, ids = copy
    _sql(cli.db, ("DELETE FROM events WHERE case_id = ? AND seq = 2", (ids[0],)),
         ("UPDATE cases SET state = 'archived' WHERE id = ?", (ids[2],)))
    assert sorted(_broken(cli)) == sorted([(ids[0], 2), (ids[2], 8)])


def test_stored_bodies_are_canonical_so_hashing_the_text_is_the_chain_check(
        pristine: tuple[Path, list[str]]) -> None:
    """The fast path of `audit verify` hashes the stored body text; that equals
    `chain_hash(event.body())` only because the text is exactly the canonical form."""
    from flowengine.audit.rows import stored_events
    from flowengine.records.events import canonical, chain_hash

    con = sqlite3.connect(pristine[0])
    rows = con.execute("SELECT body, hash FROM events ORDER BY case_id, seq").fetchall()
    con.close()
    for body, stored in rows:
        assert canonical(json.loads(body)) == body
        assert hashlib.sha256(body.encode()).hexdigest() == stored
    store = SqlStore(f"sqlite:///{pristine[0]}")
    fast = [row for row in stored_events(store) if isinstance(row, tuple)]
    slow = list(store.all_events())
    store.close()
    assert [e for e, _ in fast] == slow
    assert [h for _, h in fast] == [chain_hash(e.body()) for e in slow] == [e.hash for e in slow]


# Stored garbage: values the engine never writes, in every column the audit reads. Each
# must end as a named broken case (exit 1), never a traceback; the other cases verify.
CASE_GARBAGE = {
    "process_id": ["X'00'", "''"], "digest": ["X'00'", "'nope'"], "state": ["X'ff'", "''"],
    "data": ["'not json'", "'[]'", "'{\"a\": {\"$dec\": \"zz\"}}'",
             "'{\"a\": {\"$date\": 5}}'", "X'00'"],
    "deadlines": ["'not json'", "'{}'", "'[1]'", "'[{\"name\": \"x\"}]'", "X'00'",
                  "replace(deadlines, '\"started_at\":\"2026-03-02T09:00:00+08:00\"', "
                  "'\"started_at\":null')",
                  "replace(deadlines, '\"due_date\":\"2026-03-17\"', '\"due_date\":\"soon\"')"],
    "seq": ["'x'", "2.5", "0", "X'08'"], "last_hash": ["X'00'", "''"],
    "overdue": ["'yes'", "2"], "late": ["'no'"], "final": ["-1"],
    "duplicate_of": ["X'00'", "'Cnosuchcase'"], "dup_key": ["X'00'"],
    "owner": ["X'00'", "NULL"], "owner_role": ["X'00'"],
    "created_at": ["'garbage'", "'2026-03-02'", "5"], "updated_at": ["'2026-13-45'"],
    "next_timer_at": ["'garbage'", "'2026-03-02T09:00'"], "claimed_until": ["'soon'"],
}
EVENT_GARBAGE = {"seq": ["'x'", "2.5", "X'08'"], "hash": ["X'00'", "'garbage'"],
                 "body": ["X'00'", "'[1]'"], "case_id": ["'Cnotacase'"]}


def _no_traceback_anywhere(cli: Cli, case_id: str) -> None:
    """The other commands that read the case may refuse it (exit 1), never crash."""
    for args in (("case", "show", case_id), ("case", "list"), ("report",),
                 ("export", case_id)):
        r = cli(*args)
        assert r.code in (0, 1) and "Traceback" not in r.stderr, (args, r)
        assert r.code == 0 or r.stderr.startswith("error: "), (args, r)


@pytest.mark.parametrize("column,value", [(c, v) for c, vs in CASE_GARBAGE.items()
                                          for v in vs])
def test_garbage_in_a_case_record(copy: tuple[Cli, list[str]], column: str,
                                  value: str) -> None:
    cli, ids = copy
    _sql(cli.db, (f"UPDATE cases SET {column} = {value} WHERE id = ?", (ids[1],)))
    assert _broken(cli) == [(ids[1], 8)]
    _replay_fails(cli, ids[1], 0)
    assert cli("replay", ids[0]).code == 0


@pytest.mark.parametrize("column,value", [("data", "'not json'"), ("deadlines", "'[1]'"),
                                          ("seq", "'x'"), ("created_at", "'garbage'")])
def test_reading_commands_refuse_an_undecodable_record(copy: tuple[Cli, list[str]],
                                                       column: str, value: str) -> None:
    """`case show`, `case list` and `report` read records the store's way: a record that
    does not decode is an error (exit 1) saying so, not a traceback."""
    cli, ids = copy
    _sql(cli.db, (f"UPDATE cases SET {column} = {value} WHERE id = ?", (ids[1],)))
    for args in (("case", "show", ids[1]), ("case", "list"), ("report",)):
        r = cli(*args)
        assert r.code == 1 and "cannot be read" in r.stderr, (args, r)
        assert "Traceback" not in r.stderr
    assert cli("replay", ids[0]).code == 0


@pytest.mark.parametrize("column,value", [(c, v) for c, vs in EVENT_GARBAGE.items()
                                          for v in vs])
@pytest.mark.parametrize("seq", [3, 8])
def test_garbage_in_an_event_row(copy: tuple[Cli, list[str]], column: str, value: str,
                                 seq: int) -> None:
    cli, ids = copy
    _sql(cli.db, (f"UPDATE events SET {column} = {value} WHERE case_id = ? AND seq = ?",
                  (ids[1], seq)))
    moved = [("Cnotacase", seq)] if column == "case_id" else []  # a row of another case
    assert sorted(_broken(cli)) == sorted([(ids[1], seq), *moved])
    _replay_fails(cli, ids[1], seq)
    _no_traceback_anywhere(cli, ids[1])


@pytest.mark.parametrize("change", ["DELETE FROM definitions",
                                    "UPDATE definitions SET text = 'id: [unclosed'",
                                    "UPDATE definitions SET text = X'00'"])
def test_garbage_in_the_stored_definition(copy: tuple[Cli, list[str]], change: str) -> None:
    cli, ids = copy
    con = sqlite3.connect(cli.db)
    with con:
        assert con.execute(change).rowcount >= 1
    con.close()
    assert sorted(_broken(cli)) == sorted((case_id, 1) for case_id in ids)
    r = cli("replay", ids[1])
    assert r.code == 1 and f"case {ids[1]}" in r.stderr and "Traceback" not in r.stderr
