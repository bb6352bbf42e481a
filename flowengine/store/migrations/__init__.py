"""Schema versions (Alembic): upgrade a database in place, or tell the user to.

Policy (docs/storage.md): opening a store on an **empty** database creates the schema
(`upgrade head`), so `Engine(db="sqlite:///cases.db")` just works. A database at an **older**
revision is refused with `SchemaNotCurrent` telling to run `flowengine db upgrade`: changing
a database that holds cases is an explicit step the operator takes (after a backup), never a
side effect of starting a worker. A revision this flowengine does not know (a newer release
wrote it) is refused too. Upgrades run in one transaction, serialised by an advisory lock on
PostgreSQL and by the write lock on SQLite, so two processes opening a fresh database at once
do not both create it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from ..errors import SchemaNotCurrent

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "flowengine_schema_version"
_PG_LOCK = 0x666C6F77  # "flow": pg_advisory_xact_lock key for schema changes


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: the revision before (None: empty database) and after."""

    before: str | None
    after: str


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this flowengine knows."""
    revision = _script().get_current_head()
    assert revision is not None
    return revision


def known(revision: str) -> bool:
    return any(s.revision == revision for s in _script().walk_revisions())


def current(connection: Connection) -> str | None:
    """The database's revision (None: no flowengine schema yet)."""
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
            command.upgrade(_config(conn), "head")
    return Upgrade(before, head())


def prepare(engine: Engine, url: str, create: bool = True) -> None:
    """Create the schema of an empty database (unless not `create`: a read-only store);
    refuse one at another revision."""
    with engine.connect() as conn:
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
