"""Schema versions: the head Alembic revision builds exactly `schema.py`'s tables (and
indexes, WHERE clauses included), a 0001 database with cases in it upgrades in place, a store
creates the schema of an empty database (also when several processes open it at once), a
database it does not recognise is refused with a message saying what to do, and
`flowengine db upgrade` / `db current` work on both backends with the exit codes of the spec.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex

from flowengine import Actor, Engine
from flowengine.cli import main
from flowengine.store import migrations
from flowengine.store.connect import open_engine
from flowengine.store.errors import SchemaNotCurrent
from flowengine.store.schema import metadata
from flowengine.store.sql import SqlStore


def test_revision_head_is_exactly_the_live_schema(db_url: str) -> None:
    store = SqlStore(db_url)
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True, "version_table": migrations.VERSION_TABLE})
        diffs = compare_metadata(ctx, metadata)
        tables = set(ctx.dialect.get_table_names(conn))  # type: ignore[attr-defined]
    store.close()
    assert diffs == []
    assert {"definitions", "cases", "events", "outbox", "flowengine_schema_version"} <= tables


def test_several_processes_opening_an_empty_database_at_once(db_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            SqlStore(db_url).close()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_revision_this_release_does_not_know_is_refused(db_url: str) -> None:
    SqlStore(db_url).close()
    engine = open_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE flowengine_schema_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaNotCurrent, match="9999.*does not know.*upgrade flowengine"):
        SqlStore(db_url)


def test_a_foreign_cases_table_is_not_taken_over(db_url: str) -> None:
    engine = open_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE cases (id INTEGER PRIMARY KEY, title TEXT)"))
    engine.dispose()
    with pytest.raises(SchemaNotCurrent, match="not a flowengine database"):
        SqlStore(db_url)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_db_upgrade_and_current_commands(db_url: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "db", "current", "--db", db_url, "--json")
    if db_url.startswith("sqlite"):  # looking at a missing file does not create it
        path = Path(str(make_url(db_url).database))
        assert code == 2 and f"{path}: it does not exist" in err and not path.exists()
        path.touch()  # an empty database: no schema yet
        code, out, _ = run_cli(capsys, "db", "current", "--db", db_url, "--json")
    assert code == 0 and json.loads(out) == {"current": None, "head": migrations.head(),
                                             "up_to_date": False}
    code, out, _ = run_cli(capsys, "db", "upgrade", "--db", db_url, "--json")
    assert code == 0
    assert json.loads(out) | {"db": ""} == {"db": "", "from": None, "to": migrations.head(),
                                            "changed": True}
    code, out, _ = run_cli(capsys, "db", "upgrade", "--db", db_url)
    assert code == 0 and "already at revision" in out
    code, out, _ = run_cli(capsys, "db", "current", "--db", db_url)
    assert code == 0 and "up to date" in out
    SqlStore(db_url).close()


def test_db_upgrade_on_a_database_that_cannot_be_opened(
        tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "db", "upgrade", "--db", "sqlite:////no/such/dir/x.db")
    assert (code, out) == (2, "") and "cannot open" in err and "Traceback" not in err
    code, out, err = run_cli(capsys, "db", "upgrade", "--db", "nosuchdb://x")
    assert code == 2 and "database URL" in err


# ---------------------------------------------------------------------- 0001 -> 0002
PROCESSES = Path(__file__).resolve().parents[3] / "processes"


def _index_sql(db_url: str) -> dict[str, str]:
    """Each flowengine index of `cases` as the database itself describes it."""
    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'cases' AND sql IS NOT NULL").all()
            else:
                rows = conn.exec_driver_sql(
                    "SELECT indexname, replace(indexdef, schemaname || '.', '') "
                    "FROM pg_indexes WHERE tablename = 'cases' "
                    "AND schemaname = current_schema() AND indexname LIKE 'ix_%%'").all()
    finally:
        engine.dispose()
    return {name: " ".join(sql.split()) for name, sql in rows}


def _fresh_indexes(db_url: str) -> dict[str, str]:
    store = SqlStore(db_url)
    store.close()
    return _index_sql(db_url)


def test_head_indexes_are_those_of_the_live_schema(db_url: str) -> None:
    # compare_metadata does not look at an index's WHERE clause: compare the DDL itself
    indexes = _fresh_indexes(db_url)
    engine = open_engine(db_url)
    expected = {str(ix.name): " ".join(str(CreateIndex(ix).compile(dialect=engine.dialect)).split())
                for ix in metadata.tables["cases"].indexes}
    engine.dispose()
    assert set(indexes) == set(expected)
    for name, ddl in expected.items():
        where = ddl.partition(" WHERE ")[2]
        assert where.replace("(", "").replace(")", "") in \
            indexes[name].replace("(", "").replace(")", ""), (name, indexes[name], ddl)
    assert "IS NOT NULL" in indexes["ix_cases_next_timer_at"]
    assert "IS NOT NULL" in indexes["ix_cases_open_dup"]


def test_upgrading_a_0001_database_with_cases_in_it(
        db_url: str, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> None:
    """A database written at revision 0001 (the tables 0002 leaves as they are; the old,
    full indexes) upgrades in place with `flowengine db upgrade`, then its cases replay and
    verify, fire, tick and find duplicates through the new indexes."""
    _write_0001_cases(db_url)
    old = _index_sql(db_url)
    assert "IS NOT NULL" not in old["ix_cases_next_timer_at"]
    assert "ix_cases_provisional" not in old
    with pytest.raises(SchemaNotCurrent, match="0001.*back the database up") as refused:
        SqlStore(db_url)
    assert refused.value.upgradable and "flowengine" not in str(refused.value).split(":")[-1]
    code, _, err = run_cli(capsys, "case", "list", "--db", db_url)
    assert code == 2 and "then upgrade its schema: run flowengine db upgrade --db " in err

    code, out, _ = run_cli(capsys, "db", "upgrade", "--db", db_url, "--json")
    assert code == 0
    assert json.loads(out) | {"db": ""} == {"db": "", "from": "0001", "to": migrations.head(),
                                            "changed": True}
    assert _index_sql(db_url) == _fresh_indexes(_another_empty_database(db_url, request))

    code, out, _ = run_cli(capsys, "audit", "verify", "--db", db_url,
                           "--processes", str(PROCESSES), "--json")
    assert code == 0, out
    store = SqlStore(db_url)
    try:
        eng = Engine(store=store, processes=[PROCESSES])
        open_ids = [c.id for c in eng.cases() if c.state == "registered"]
        assert len(open_ids) == 3
        assert store.find_open_duplicate("standard_case", {"petitioner": "乙", "subject": "噪音"})
        later = datetime(2026, 9, 1, tzinfo=UTC)
        assert store.due_cases(later)  # the deadlines written at 0001 are found by a tick
        eng.fire(open_ids[0], "accept", actor=Actor("王芳", "clerk"),
                 at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    finally:
        store.close()
    code, out, _ = run_cli(capsys, "audit", "verify", "--db", db_url,
                           "--processes", str(PROCESSES), "--json")
    assert code == 0, out


def _write_0001_cases(db_url: str) -> None:
    """Three cases started by the engine at the current revision, then the database taken
    down to 0001 by the migrations' own downgrade steps (which drop what 0002 and 0003
    added), so the rows are as a 0001 flowengine wrote them."""
    store = SqlStore(db_url)
    try:
        eng = Engine(store=store, processes=[PROCESSES])
        t = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        for who in ("甲", "乙", "丙"):
            eng.start("standard_case", {"petitioner": who, "subject": "噪音"},
                      actor=Actor("王芳", "clerk"), at=t)
    finally:
        store.close()
    engine = open_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(migrations._config(conn), "0001")
    engine.dispose()


def _another_empty_database(db_url: str, request: pytest.FixtureRequest) -> str:
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        return f"sqlite:///{path.with_name('fresh-' + path.name)}"
    return str(request.getfixturevalue("pg_server").fresh_url())
