"""Recorded time beside claimed time: every event gets the database's own time of writing
(`recorded_at`), and an event claimed (`--at`) more than the tolerance before it is
backdated — marked by `case show`, `replay` and `export`, warned about by `audit verify`
(an error with `--strict`) and counted by `report`. On SQLite and on a real PostgreSQL
server. The claimed dates here (March 2026) lie far before any run of these tests, while
the firing without `--at` is claimed "now": one backdated event and one that is not."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from .conftest import Cli


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, cli: Cli) -> dict[str, str]:
    if request.param == "sqlite":
        return {"FLOWENGINE_DB": cli.url}
    return {"FLOWENGINE_DB": request.getfixturevalue("pg_url")}


def _case(cli: Cli, env: dict[str, str]) -> tuple[str, datetime, datetime]:
    """A case started with a claimed instant in March 2026 and accepted "now"; the wall
    clock around the writes (the recorded times must fall between)."""
    before = datetime.now(UTC) - timedelta(seconds=2)
    r = cli("case", "start", "standard_case", "--set", "petitioner=张三", "--set",
            "subject=噪音", "--actor", "王芳", "--role", "clerk", "--at", "2026-03-02T09:00",
            env=env)
    assert r.code == 0, r
    case_id = r.stdout.splitlines()[0]
    r = cli("case", "fire", case_id, "accept", "--actor", "王芳", "--role", "clerk", env=env)
    assert r.code == 0, r
    return case_id, before, datetime.now(UTC) + timedelta(seconds=2)


def test_recorded_time_is_the_databases_and_backdating_is_shown(
        cli: Cli, env: dict[str, str]) -> None:
    case_id, before, after = _case(cli, env)
    history = cli("case", "show", case_id, "--json", env=env).json()["history"]
    for h in history:
        assert before <= datetime.fromisoformat(h["recorded_at"]) <= after
    # the start was claimed in March; the acceptance "now"; the timers that ran out in
    # between carry their due instants, which a late tick records late by design
    assert [(h["what"], h["backdated"]) for h in history] == [
        ("started the case", True), *[("timer", False)] * (len(history) - 2),
        ("fired accept", False)]
    text_show = cli("case", "show", case_id, env=env).stdout
    assert text_show.count("[BACKDATED: recorded ") == 1
    assert "#1 2026-03-02T09:00:00+08:00" in text_show.split("[BACKDATED")[0]
    # a tolerance wider than the gap: nothing is backdated
    wide = cli("case", "show", case_id, "--json", "--backdate-tolerance", "3650d", env=env)
    assert not any(h["backdated"] for h in wide.json()["history"])
    replay = cli("replay", case_id, "--json", env=env).json()
    assert [t["backdated"] for t in replay["timeline"]] == [h["backdated"] for h in history]


def test_export_keeps_the_events_as_hashed_and_lists_recorded_times_beside(
        cli: Cli, env: dict[str, str]) -> None:
    case_id, *_ = _case(cli, env)
    doc = json.loads(cli("export", case_id, env=env).stdout)
    assert [r["backdated"] for r in doc["recorded"]] == [True] + [False] * (len(doc["events"]) - 1)
    assert all("recorded_at" not in e for e in doc["events"])  # the body is untouched
    rows = list(csv.DictReader(io.StringIO(
        cli("export", case_id, "--format", "csv", env=env).stdout.lstrip("\ufeff"))))
    assert [r["backdated"] for r in rows] == ["BACKDATED"] + [""] * (len(rows) - 1)
    assert all(r["recorded_at"] for r in rows)


def test_verify_warns_and_strict_fails_and_report_counts(cli: Cli, env: dict[str, str]) -> None:
    case_id, *_ = _case(cli, env)
    r = cli("audit", "verify", env=env)
    assert r.code == 0, r
    assert "warning: 1 backdated event(s)" in r.stderr
    assert f"BACKDATED case {case_id}: event 1: claimed 2026-03-02T01:00:00+00:00" in r.stdout
    doc = cli("audit", "verify", "--json", env=env).json()
    assert [(b["case"], b["seq"]) for b in doc["backdated"]] == [(case_id, 1)]
    strict = cli("audit", "verify", "--strict", env=env)
    assert strict.code == 1 and "error: 1 backdated event(s)" in strict.stderr
    assert cli("audit", "verify", "--strict", "--backdate-tolerance", "3650d",
               env=env).code == 0
    rep = cli("report", "--json", env=env).json()
    assert rep["by_process"]["standard_case"]["backdated"] == {"cases": 1, "events": 1}
    assert "倒签件" in cli("report", env=env).stdout
    bad = cli("audit", "verify", "--backdate-tolerance", "soon", env=env)
    assert bad.code == 2 and "not a duration" in bad.stderr


def test_rows_without_a_recorded_time_are_unknown_not_backdated(
        cli: Cli, env: dict[str, str]) -> None:
    case_id, *_ = _case(cli, env)
    engine = create_engine(env["FLOWENGINE_DB"])
    with engine.begin() as conn:  # what revision 0004 leaves on rows written before it
        conn.execute(text("UPDATE events SET recorded_at = NULL"))
    engine.dispose()
    history = cli("case", "show", case_id, "--json", env=env).json()["history"]
    assert {(h["recorded_at"], h["backdated"]) for h in history} == {(None, False)}
    assert cli("audit", "verify", "--strict", env=env).code == 0
