"""Read-only access to a database, and the check that a SQLite file exists.

Why: an auditor's commands must leave the evidence as they found it. Opened the ordinary
way, a SQLite file is switched to WAL (a rollback-journal copy changes its header, so its
hash) and refuses to open on read-only media ("attempt to write a readonly database"); and
a mistyped path silently becomes a new, empty database that "verifies". So:

- `require_file`: a SQLite URL whose file does not exist is refused, naming the path;
- `sqlite_read_only`: SQLite opened with `mode=ro` (SQLite itself refuses every write and
  the journal mode is never touched), or `immutable=1` for an evidence copy nothing else
  writes (no locks, no -wal/-shm files even beside a WAL-mode file);
- `postgresql_read_only`: every PostgreSQL session of the engine has
  `default_transaction_read_only` on, so even the store's autocommit statements are
  read-only transactions.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL, Engine, event
from sqlalchemy import create_engine as sa_create_engine

from .errors import DatabaseUnavailable

IMMUTABLE_HINT = ("SQLite must create the -wal/-shm files beside a WAL-mode database to "
                  "read it, and cannot here (a read-only folder or medium); for an evidence "
                  "copy that nothing else writes, add --immutable")


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names (absolute); None for PostgreSQL or an in-memory one."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(os.path.abspath(str(url.database)))


def require_file(url: URL) -> None:
    """Refuse a SQLite URL whose file does not exist (it would become a new, empty one)."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise DatabaseUnavailable(
            f"no database file {path}: it does not exist")


def sqlite_read_only(url: URL, busy_ms: int, immutable: bool) -> Engine:
    """An engine whose SQLite connections are opened read-only (`mode=ro`, or
    `immutable=1`), through a SQLite URI filename so no query parameter is lost."""
    require_file(url)
    path = sqlite_file(url)
    assert path is not None
    uri = f"file:{quote(str(path))}?" + ("immutable=1" if immutable else "mode=ro")

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=busy_ms / 1000,
                               check_same_thread=False)

    return sa_create_engine(url, creator=connect)


def postgresql_read_only(engine: Engine) -> None:
    """Make every new session of `engine` read-only (`default_transaction_read_only`)."""

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: Any, record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cur.close()
        dbapi_conn.commit()  # a session setting: kept after the pool's reset ROLLBACKs


def read_only_hint(exc: BaseException | None, immutable: bool) -> str:
    """What to do when a read-only open fails with SQLite's "readonly" complaint."""
    if immutable or "readonly" not in str(exc):
        return ""
    return f" ({IMMUTABLE_HINT})"


__all__ = ["IMMUTABLE_HINT", "postgresql_read_only", "read_only_hint", "require_file",
           "sqlite_file", "sqlite_read_only"]
