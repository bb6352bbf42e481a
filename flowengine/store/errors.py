"""Errors of the SQL store, in the `FlowengineError` tree (exit 2: fix the input or setup).

    FlowengineError
    ├── DatabaseUnavailable      the URL is malformed or the server cannot be reached
    ├── SchemaNotCurrent         the database's schema revision is not the one needed
    ├── HostTransactionMissing   `Engine.transaction(conn)` on a connection with no transaction
    └── StoreError               the database refused a statement (what happened, named)
        ├── StoreBusy            another writer held the lock for the whole wait
        └── ValueRefused         a value the column cannot hold (date out of range, too long)

They live beside the store because only the store raises them; the CLI maps every
`FlowengineError` to its exit code in one place, so no traceback reaches the user. A
`StoreError` keeps the driver's exception as `__cause__` for the host's logs.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import FlowengineError


class DatabaseUnavailable(FlowengineError):
    """The database URL is malformed or the database cannot be opened."""

    exit_code: ClassVar[int] = 2


class FlushFailed(DatabaseUnavailable):
    """The WAL could not be flushed after a COMMIT (store/flush.py): the commit is visible
    but may not survive a crash."""


class SchemaNotCurrent(FlowengineError):
    """The database's schema is not the one this flowengine needs; `upgradable` when it is
    an older revision this release can upgrade (`migrations.upgrade`; the CLI names its
    `db upgrade` command), `url` the database (password hidden)."""

    exit_code: ClassVar[int] = 2

    def __init__(self, message: str, url: str = "", upgradable: bool = False) -> None:
        self.url = url
        self.upgradable = upgradable
        super().__init__(message)


class HostTransactionMissing(FlowengineError):
    """`Engine.transaction(connection)` was given a connection with no open transaction."""


class StoreError(FlowengineError):
    """The database refused a statement; the message names what happened. Nothing of the
    call was written (its transaction, or savepoint in a host's transaction, rolled back)."""


class StoreBusy(StoreError):
    """Another connection held the write lock for the whole wait (`waited`, seconds): retry
    later, or make the other writer's transactions shorter."""

    def __init__(self, message: str, waited: float | None) -> None:
        self.waited = waited
        super().__init__(message)


class ValueRefused(StoreError):
    """A value the database column cannot hold: a date out of its range, a text longer than
    the column, a number too large. Bound the input (docs/limits.md)."""
