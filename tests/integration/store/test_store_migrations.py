"""Schema versions: the first Alembic revision builds exactly `schema.py`'s tables, a store
creates the schema of an empty database (also when several processes open it at once), a
database it does not recognise is refused with a message saying what to do, and
`flowengine db upgrade` / `db current` work on both backends with the exit codes of the spec.
"""

from __future__ import annotations

import json
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

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
