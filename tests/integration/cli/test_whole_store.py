"""Whole-store views (docs/audit.md): `audit heads`, `replay --all --until`, `export --all`
on real SQLite files and a real PostgreSQL server; broken cases named without a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.tamper import build_cases

from .conftest import Cli


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("whole") / "cases.db"
    return path, build_cases(f"sqlite:///{path}", ("甲", "乙", "丙"))


@pytest.fixture
def store(pristine: tuple[Path, list[str]], cli: Cli) -> tuple[Cli, list[str]]:
    shutil.copy(pristine[0], cli.db)
    return cli, pristine[1]


def _rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def _tamper(db: Path, sql: str, *args: object) -> None:
    con = sqlite3.connect(db)
    with con:
        assert con.execute(sql, args).rowcount >= 1
    con.close()


def test_heads_are_each_cases_last_event_and_match_the_checkpoints_block(
        store: tuple[Cli, list[str]]) -> None:
    cli, ids = store
    last = {c: (s, h) for c, s, h in _rows(cli.db, "SELECT case_id, seq, hash FROM events e "
                                            "WHERE seq = (SELECT max(seq) FROM events "
                                            "WHERE case_id = e.case_id)")}
    r = cli("audit", "heads")
    assert r.code == 0, r
    lines = r.stdout.splitlines()
    assert lines == [f"{c} {last[c][0]} - {last[c][1]}" for c in sorted(ids)]
    cp = cli.folder / "cp.txt"
    assert cli("audit", "checkpoint", "-o", str(cp)).code == 0
    heads = cli("audit", "heads").stdout.splitlines()
    assert heads == cp.read_text().split("\n\n")[1].splitlines()  # the same block
    doc = cli("audit", "heads", "--json").json()
    assert doc["cases"] == 3 and doc["unreadable"] == []
    assert [(h["case"], h["seq"], h["hash"]) for h in doc["heads"]] == [
        (c, *last[c]) for c in sorted(ids)]
    assert all(isinstance(h["log_index"], int) for h in doc["heads"])


def test_heads_name_an_unreadable_row(store: tuple[Cli, list[str]]) -> None:
    cli, ids = store
    _tamper(cli.db, "UPDATE events SET seq = 'x' WHERE case_id = ? AND seq = 8", ids[1])
    r = cli("audit", "heads")
    assert r.code == 1 and ids[1] in r.stderr and "Traceback" not in r.stderr


def test_replay_all_as_of_instants(store: tuple[Cli, list[str]]) -> None:
    cli, ids = store
    early = cli("replay", "--all", "--until", "2026-03-01T00:00", "--json")
    assert early.code == 0 and early.json()["cases"] == 0
    assert early.json()["not_yet_started"] == 3 and early.json()["folded"] == 0
    mid = cli("replay", "--all", "--until", "2026-03-05T00:00", "--json").json()
    assert mid["by_process"] == {"standard_case": {"cases": 3, "states": {"investigating": 3}}}
    assert mid["events"] == 24 and mid["folded"] == 9 and mid["ok"] is True
    now = cli("replay", "--all")
    assert now.code == 0 and "standard_case: 3 case(s)" in now.stdout
    assert "replied  3" in now.stdout
    # a case started later is counted once it exists
    cli.start(at="2026-03-20T09:00")
    later = cli("replay", "--all", "--until", "2026-03-21T00:00", "--json").json()
    assert later["by_process"]["standard_case"]["states"] == {"registered": 1, "replied": 3}


def test_replay_all_names_broken_cases_and_counts_the_others(
        store: tuple[Cli, list[str]]) -> None:
    cli, ids = store
    _tamper(cli.db, "UPDATE events SET body = replace(body, '城管局', '公安局') "
            "WHERE case_id = ? AND seq = 4", ids[0])
    _tamper(cli.db, "UPDATE events SET body = 'not json' WHERE case_id = ? AND seq = 2", ids[2])
    r = cli("replay", "--all", "--until", "2026-03-20T00:00", "--json")
    assert r.code == 1 and "Traceback" not in r.stderr
    assert sorted((b["case"], b["seq"]) for b in r.json()["broken"]) == sorted(
        [(ids[0], 4), (ids[2], 2)])
    assert r.json()["by_process"]["standard_case"]["cases"] == 1  # only the untouched one
    text = cli("replay", "--all")
    assert f"BROKEN case {ids[0]}: event 4" in text.stderr
    assert "2 case(s) do not verify" in text.stderr


def _verify_chain(events: list[dict[str, Any]]) -> None:
    """The standard-library check docs/audit.md describes."""
    prev = "0" * 64
    for e in events:
        body = {k: v for k, v in e.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(text.encode()).hexdigest() == e["hash"]
        assert e["prev_hash"] == prev
        prev = e["hash"]


def test_export_all_is_json_lines_that_re_verify(store: tuple[Cli, list[str]]) -> None:
    cli, ids = store
    out = cli.folder / "all.jsonl"
    r = cli("export", "--all", "-o", str(out))
    assert r.code == 0, r
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"format": "flowengine-export-all/1", "checkpoint": None}
    assert lines[-1] == {"end": True, "cases": 3, "events": 24, "unreadable": []}
    cases = lines[1:-1]
    assert [c["case"] for c in cases] == sorted(ids)
    for c in cases:
        _verify_chain(c["events"])
        assert c["head"]["seq"] == 8 == len(c["events"]) == len(c["recorded"])
        assert c["head"]["hash"] == c["events"][-1]["hash"] and c["checkpointed"] is None
        assert all(r["recorded_at"] and r["backdated"] for r in c["recorded"][:1])
    # stdout carries the same lines
    assert cli("export", "--all").stdout == out.read_text(encoding="utf-8")


def test_export_all_under_a_checkpoint(store: tuple[Cli, list[str]]) -> None:
    cli, ids = store
    key = cli.folder / "k"
    assert cli("audit", "keygen", str(key)).code == 0
    cp = cli.folder / "cp.txt"
    assert cli("audit", "checkpoint", "--key", str(key), "-o", str(cp)).code == 0
    cli.start(at="2026-03-20T09:00")  # after the checkpoint: no checkpointed head
    r = cli("export", "--all", "--checkpoint", str(cp), "--pubkey", f"{key}.pub")
    assert r.code == 0, r
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    head = lines[0]["checkpoint"]
    assert head["signed_text"] == "".join(cp.read_text().splitlines(keepends=True)[:7])
    assert (head["size"], head["key"]) == (24, cp.read_text().splitlines()[7].split()[1])
    assert head["outbox"] == cp.read_text().splitlines()[6].split()[1]
    block = cp.read_text().split("\n\n")[1].splitlines()
    got = [f"{c['case']} {c['checkpointed']['seq']} {c['checkpointed']['log_index']} "
           f"{c['checkpointed']['hash']}" for c in lines[1:-1] if c["checkpointed"]]
    assert got == block
    assert sum(c["checkpointed"] is None for c in lines[1:-1]) == 1
    # a log that no longer extends the checkpoint: refused before anything is written
    _tamper(cli.db, "DELETE FROM events WHERE case_id = ?", ids[1])
    r = cli("export", "--all", "--checkpoint", str(cp))
    assert r.code == 1 and r.stdout == "" and "not an extension" in r.stderr


def test_export_all_refusals_and_unreadable_rows(store: tuple[Cli, list[str]]) -> None:
    cli, ids = store
    assert cli("export", "--all", "--format", "csv").code == 2
    assert cli("export", ids[0], "--all").code == 2
    assert cli("export").code == 2
    assert cli("export", ids[0], "--checkpoint", str(cli.db)).code == 2
    _tamper(cli.db, "UPDATE events SET body = '{' WHERE case_id = ? AND seq = 3", ids[2])
    r = cli("export", "--all")
    assert r.code == 1 and f"BROKEN case {ids[2]}: event 3" in r.stderr
    end = json.loads(r.stdout.splitlines()[-1])
    assert [(u["case"], u["seq"]) for u in end["unreadable"]] == [(ids[2], 3)]


@pytest.mark.postgres
def test_whole_store_views_on_postgresql(cli: Cli, pg_url: str) -> None:
    ids = build_cases(pg_url, ("甲", "乙"))
    env = {"FLOWENGINE_DB": pg_url}
    cp = cli.folder / "cp.txt"
    assert cli("audit", "checkpoint", "-o", str(cp), env=env).code == 0
    heads = cli("audit", "heads", env=env)
    assert heads.code == 0 and heads.stdout.splitlines() == cp.read_text().split(
        "\n\n")[1].splitlines()
    mid = cli("replay", "--all", "--until", "2026-03-05T00:00", "--json", env=env)
    assert mid.code == 0 and mid.json()["by_process"]["standard_case"]["states"] == {
        "investigating": 2}
    r = cli("export", "--all", "--checkpoint", str(cp), env=env)
    assert r.code == 0, r
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(c["case"] for c in lines[1:-1]) == sorted(ids)
    for c in lines[1:-1]:
        _verify_chain(c["events"])
        assert c["checkpointed"]["hash"] == c["head"]["hash"]
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE events SET body = replace(body, '城管局', '公安局') "
                          "WHERE case_id = :c AND seq = 4"), {"c": ids[1]})
    engine.dispose()
    r = cli("replay", "--all", "--json", env=env)
    assert r.code == 1 and [(b["case"], b["seq"]) for b in r.json()["broken"]] == [(ids[1], 4)]
