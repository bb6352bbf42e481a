"""`flowengine db upgrade|current`: the database schema, upgraded in place with Alembic.

Opening a store creates the schema of an empty database by itself, but never changes a
database that already holds cases: that is this command's job, run by an operator (after a
backup) when a new flowengine release brings a new schema revision. See docs/storage.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from ..store import migrations
from ..store.access import read_only_hint
from ..store.connect import hide_password, open_engine
from ..store.errors import DatabaseUnavailable
from . import cli
from .common import immutable_option

DEFAULT_DB = "sqlite:///flowengine.db"
_DB_HELP = "Database URL (env FLOWENGINE_DB)."


@contextmanager
def _engine(db: str, *, read_only: bool = False, immutable: bool = False) -> Iterator[Engine]:
    """The configured engine; a database that cannot be opened is a usage error (exit 2).
    `read_only`: the SQLite file must exist and is opened read-only (store/access.py)."""
    engine = open_engine(db, read_only=read_only, immutable=immutable)
    try:
        yield engine
    except OperationalError as exc:
        hint = read_only_hint(exc.orig, immutable) if read_only else ""
        raise DatabaseUnavailable(f"cannot open {hide_password(db)}: {exc.orig}{hint}") \
            from None
    finally:
        engine.dispose()


@cli.group("db")
def db_group() -> None:
    """The database's schema: which revision it has, and upgrading it."""


@db_group.command("upgrade")
@click.option("--db", envvar="FLOWENGINE_DB", default=DEFAULT_DB, show_default=True,
              help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def upgrade_cmd(db: str, as_json: bool) -> None:
    """Bring the database to this flowengine's schema revision (creates it when empty)."""
    with _engine(db) as engine:
        done = migrations.upgrade(engine)
    shown = engine.url.render_as_string(hide_password=True)
    if as_json:
        click.echo(json.dumps({"db": shown, "from": done.before, "to": done.after,
                               "changed": done.before != done.after}))
    elif done.before == done.after:
        click.echo(f"{shown} is already at revision {done.after}")
    else:
        click.echo(f"{shown}: revision {done.before or '(empty)'} -> {done.after}")


@db_group.command("current")
@click.option("--db", envvar="FLOWENGINE_DB", default=DEFAULT_DB, show_default=True,
              help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@immutable_option
def current_cmd(db: str, as_json: bool, immutable: bool) -> None:
    """Show the database's schema revision and the one this flowengine needs (read-only)."""
    with _engine(db, read_only=True, immutable=immutable) as engine, engine.connect() as conn:
        revision = migrations.current(conn)
    head = migrations.head()
    if as_json:
        click.echo(json.dumps({"current": revision, "head": head,
                               "up_to_date": revision == head}))
    else:
        state = "up to date" if revision == head else "run `flowengine db upgrade`"
        click.echo(f"revision {revision or '(none)'}; this flowengine needs {head}: {state}")
