"""Opening the database, and the fast path the store's two per-fire statements take.

`open_engine` turns a URL into a configured SQLAlchemy `Engine`. SQLite connections get WAL,
the chosen `synchronous` level, foreign keys and a busy timeout, and explicit BEGINs
(pysqlite's implicit BEGIN comes too late for a safe read-modify-write): `BEGIN IMMEDIATE`
for writes, so two writers queue on the lock instead of one failing half-way.

Why a fast path: SQLAlchemy's per-execution work costs about as much as SQLite's own work
for a one-row commit (bench/RESULTS.md §4 has the figures). A fire is one `load_case` and
one `append`, so those two run their statements, still built and compiled by SQLAlchemy Core
(`Prepared`), straight on a DBAPI cursor (checked out and returned per call: checkout.py):
no per-execution compile-cache lookup, no result wrapping. Everything else goes through
ordinary Core connections.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timezone
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import URL, Connection, Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from .access import postgresql_read_only, sqlite_read_only
from .codec import instant_from_db as instant_from_db  # moved to codec (pure); sql.py reads it here
from .errors import DatabaseUnavailable

SYNCHRONOUS = ("extra", "full", "normal", "off")  # off: only for measuring CPU cost


def open_engine(db: str | URL, synchronous: str | None = None,
                busy_timeout_ms: int = 30_000, *, read_only: bool = False,
                immutable: bool = False) -> Engine:
    """A configured Engine for a URL; `?synchronous=` in a SQLite URL is read here.
    `read_only` (access.py): SQLite opened with `mode=ro` (`immutable=1` with `immutable`),
    never switched to WAL; PostgreSQL sessions in read-only transactions."""
    try:
        url = make_url(db)
        if url.get_backend_name() != "sqlite":
            engine = sa_create_engine(url, pool_pre_ping=True)
            if read_only:
                postgresql_read_only(engine)
            return engine
        level = synchronous or str(url.query.get("synchronous", "full"))
        url = url.difference_update_query(["synchronous"])
        if read_only and not is_memory(url):
            engine = sqlite_read_only(url, busy_timeout_ms, immutable)
        else:
            engine = _sqlite_engine(url, busy_timeout_ms)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise DatabaseUnavailable(f"cannot use the database URL {hide_password(db)}: "
                                  f"{exc}") from None
    configure_sqlite(engine, level, busy_timeout_ms, wal=not read_only)
    return engine


def hide_password(db: str | URL) -> str:
    """The URL as it may be shown: any password replaced by `***`."""
    try:
        return make_url(db).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not even a URL: show it without what may be a secret
        text = str(db)
        scheme, sep, rest = text.partition("://")
        if sep and "@" in rest:
            return f"{scheme}://***@{rest.rpartition('@')[2]}"
        return text


def _sqlite_engine(url: URL, busy_ms: int) -> Engine:
    if is_memory(url):
        return sa_create_engine(url, poolclass=StaticPool,
                                connect_args={"check_same_thread": False})
    return sa_create_engine(url, connect_args={"timeout": busy_ms / 1000})


def is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def configure_sqlite(engine: Engine, synchronous: str, busy_ms: int,
                     explicit_begin: bool = True, wal: bool = True) -> None:
    """Per connection: WAL (unless `wal` is False: a read-only file keeps its journal
    mode), `synchronous`, foreign keys, busy timeout; explicit BEGINs on engines the store
    creates (a host's engine keeps its own transaction handling)."""
    level = synchronous.lower()
    if level not in SYNCHRONOUS:
        raise DatabaseUnavailable(
            f"synchronous must be one of {', '.join(SYNCHRONOUS)}, not {synchronous!r}")
    memory = is_memory(engine.url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        if explicit_begin:
            dbapi_conn.isolation_level = None  # autocommit: we issue BEGIN ourselves
        # busy_timeout first, so every later statement of this connection waits for locks.
        for pragma in (f"busy_timeout={int(busy_ms)}", f"synchronous={level.upper()}",
                       "foreign_keys=ON"):
            dbapi_conn.execute(f"PRAGMA {pragma}").close()
        if wal and not memory:
            _use_wal(dbapi_conn, busy_ms)

    if explicit_begin:
        event.listen(engine, "begin", _begin)


def _use_wal(dbapi_conn: Any, busy_ms: int) -> None:
    """Switch the file to WAL (persistent: once any connection has done it, it stays).

    SQLite may answer the switch with "database is locked" at once, without waiting, when
    other connections open the same new file at the same moment; the winner's switch then
    holds for everyone, so a loser re-reads the mode and retries briefly instead of failing."""
    deadline = max(1, busy_ms // 50)
    for attempt in range(deadline):
        try:
            mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() == "wal":
                return
            dbapi_conn.execute("PRAGMA journal_mode=WAL").close()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == deadline - 1:
                raise
            time.sleep(0.05)


def _begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("flowengine_begin", "DEFERRED")
    if mode != "NONE":  # NONE: one-statement reads, atomic by themselves
        conn.exec_driver_sql(f"BEGIN {mode}")


# ---------------------------------------------------------------------- the fast path
class Prepared:
    """A Core statement compiled once for a dialect, executed on a DBAPI cursor."""

    def __init__(self, stmt: ClauseElement, engine: Engine,
                 keys: list[str] | None = None) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=engine.dialect, column_keys=keys))
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.named = not compiled.positiontup
        self.bind_names = tuple(compiled.binds)
        self.convert = _to_sqlite if engine.dialect.name == "sqlite" else same
        names = self.names
        self._get = (None if self.named else
                     itemgetter(*names) if len(names) > 1 else lambda p: (p[names[0]],))

    def args(self, params: Mapping[str, Any]) -> Any:
        """The DBAPI parameters, values converted to the database's form."""
        convert = self.convert
        if self.named:
            return {k: convert(params[k]) for k in self.bind_names}
        return tuple([convert(params[k]) for k in self.names])

    def pick(self, params: Mapping[str, Any]) -> Any:
        """The DBAPI parameters of values already in the database's form."""
        if self._get is None:
            return {k: params[k] for k in self.bind_names}
        return self._get(params)


# Instant ↔ text memo: `isoformat` / `fromisoformat` are a visible share of a fire's store
# work (bench/RESULTS-store.md) and a fire converts 4-5 instants, most of them the same
# ones again (created_at never changes, updated_at is the event's instant). Only fixed-
# offset instants are memoised: two of them are == exactly when they are the same instant,
# so they have the same UTC text (with a ZoneInfo zone, == ignores `fold`, which tells
# apart the two readings of a repeated wall time). Bounded; cleared when full.
_MEMO_MAX = 4096
_TEXT_OF: dict[datetime, str] = {}


def _to_sqlite(value: Any) -> Any:
    """Instants are fixed-width UTC text on SQLite (see schema.Instant)."""
    if isinstance(value, datetime):
        text = _TEXT_OF.get(value)
        if text is None:
            text = value.astimezone(UTC).isoformat(timespec="microseconds")
            if type(value.tzinfo) is timezone:
                if len(_TEXT_OF) >= _MEMO_MAX:
                    _TEXT_OF.clear()
                _TEXT_OF[value] = text
        return text
    return value


def same(value: Any) -> Any:
    return value
