"""Schema versions (Alembic): upgrade a database in place, or tell the user to.

Policy (docs/storage.md): opening a store on an **empty** database creates the schema
(`upgrade head`), so `Engine(db="sqlite:///cases.db")` just works. A database at an **older**
revision is refused with `SchemaNotCurrent` telling to run `flowengine db upgrade`: changing
a database that holds cases is an explicit step the operator takes (after a backup), never a
side effect of starting a worker. A revision this flowengine does not know (a newer release
wrote it) is refused too. Upgrades run in one transaction, serialised by an advisory lock on
PostgreSQL and by the write lock on SQLite, so two processes opening a fresh database at once
do not both create it.

Opening a store at the current revision is the common case and must stay cheap (every CLI
command does it): it reads the version table with one SELECT and finds the head revision
from the migration files' `revision`/`down_revision` lines, without importing Alembic
(~0.1 s). Everything else goes through Alembic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from ..errors import SchemaNotCurrent

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "flowengine_schema_version"
_PG_LOCK = 0x666C6F77  # "flow": pg_advisory_xact_lock key for schema changes
_REVISION_LINE = re.compile(r'^(down_revision|revision)\s*=\s*(?:"([^"]*)"|None)\s*$', re.M)

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: the revision before (None: empty database) and after."""

    before: str | None
    after: str


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this flowengine knows."""
    revision = _script().get_current_head()
    assert revision is not None
    return revision


@lru_cache(maxsize=1)
def file_head() -> str | None:
    """The head revision read from the migration files' own lines, without Alembic; None
    when the files do not name exactly one (then `head()` decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (HERE / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current_fast(connection: Connection) -> str | None:
    """The database's revision read with one SELECT; None when it has no version table or
    not exactly one row (then Alembic is asked)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def known(revision: str) -> bool:
    return any(s.revision == revision for s in _script().walk_revisions())


def current(connection: Connection) -> str | None:
    """The database's revision (None: no flowengine schema yet)."""
    from alembic.runtime.migration import MigrationContext

    ctx = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return ctx.get_current_revision()


def behind(url: str) -> bool:
    """Whether the database at `url` has an older flowengine schema revision this release
    can upgrade (only then is `db upgrade` the advice for a refused statement). False when
    it cannot even be asked."""
    from sqlalchemy import create_engine

    try:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                revision = current(conn)
        finally:
            engine.dispose()
    except Exception:  # noqa: BLE001 - unreachable or not a flowengine database: no advice
        return False
    return revision is not None and revision != head() and known(revision)


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to `head` in one transaction (what `flowengine db upgrade` does)."""
    writer = engine.execution_options(flowengine_begin="IMMEDIATE")
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        before = current(conn)
        if before != head():
            from alembic import command

            command.upgrade(_config(conn), "head")
    return Upgrade(before, head())


def prepare(engine: Engine, url: str, create: bool = True) -> None:
    """Create the schema of an empty database (unless not `create`: a read-only store);
    refuse one at another revision."""
    with engine.connect() as conn:
        fast = _current_fast(conn)
        if fast is not None and fast == file_head():
            return
        revision = current(conn)
        has_cases = inspect(conn).has_table("cases")
    if revision == head():
        return
    if revision is None and not has_cases and create:
        upgrade(engine)
        return
    raise SchemaNotCurrent(_refusal(revision, url, has_cases), url,
                           upgradable=revision is not None and known(revision))


def _refusal(revision: str | None, url: str, has_cases: bool = True) -> str:
    if revision is None and not has_cases:
        return (f"{url} is empty: it has no flowengine schema and no cases (opened "
                f"read-only, so it was not created; check the URL)")
    if revision is None:
        return (f"{url} has a 'cases' table but no flowengine schema version; it is not a "
                f"flowengine database (use another database or file)")
    if known(revision):
        return (f"{url} has flowengine schema revision {revision}; this flowengine needs "
                f"{head()}: back the database up, then upgrade its schema")
    return (f"{url} has flowengine schema revision {revision}, which this flowengine does "
            f"not know (written by a newer release?); upgrade flowengine")


__all__ = ["SchemaNotCurrent", "Upgrade", "current", "head", "prepare", "upgrade"]
