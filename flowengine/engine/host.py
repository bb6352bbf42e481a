"""`joined`: the engine's calls inside a host's own database transaction.

Why: a host that records its own rows (a ticket, an audit line) with a start or fire wants
both or neither. The store writes through the host's connection, each call in a SAVEPOINT
(a refused or lost call leaves the host's transaction usable); the host commits or rolls
back. Listeners and plugins are told only once the host's COMMIT has returned (the data
is durable), never if it rolls back or if the COMMIT itself fails (a deferred constraint, a
full disk, a lost server), so nothing is announced that did not happen.

How: SQLAlchemy's `commit` event fires just *before* the COMMIT is sent, and Core has no
event after it. So the `commit` event only arms a one-shot wrapper around the `commit` of
the pool's proxy of the DBAPI connection (the call SQLAlchemy makes next, through
`dialect.do_commit`): the wrapper sends the real COMMIT and, when it returns, tells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, event

from ..errors import FlowengineError
from ..store.base import JoinsTransactions

Told = Callable[[], None]
_PENDING: ContextVar[list[Told] | None] = ContextVar("flowengine_pending", default=None)


class TransactionUnsupported(FlowengineError):
    """The engine's store cannot write through a host's connection (the memory store)."""


@contextmanager
def joined(store: Any, connection: Connection) -> Iterator[None]:
    """Calls in this context write in `connection`'s open transaction."""
    if not isinstance(store, JoinsTransactions):
        raise TransactionUnsupported(
            f"{type(store).__name__} cannot join a host's transaction: give the Engine a "
            f"database URL or an SQLAlchemy Engine")
    pending: list[Told] = []

    def on_commit(conn: Connection) -> None:
        told, pending[:] = list(pending), []
        if told:
            _tell_after_commit(conn, told)

    def on_rollback(_conn: Connection) -> None:
        pending.clear()

    with store.using(connection):
        event.listen(connection, "commit", on_commit, once=True)
        event.listen(connection, "rollback", on_rollback, once=True)
        token = _PENDING.set(pending)
        try:
            yield
        finally:
            _PENDING.reset(token)


def _tell_after_commit(conn: Connection, told: list[Told]) -> None:
    """Arm the DBAPI commit SQLAlchemy is about to make so that `told` runs after it."""
    proxy: Any = conn.connection  # the pool's proxy; its attributes fall through to DBAPI's
    real = proxy.dbapi_connection.commit

    def commit_then_tell() -> None:
        try:
            real()  # raises when the COMMIT fails: nothing is told
        finally:
            proxy.__dict__.pop("commit", None)
        for tell in told:
            tell()

    proxy.commit = commit_then_tell


def defer(tell: Told) -> bool:
    """Keep `tell` for the host's commit when inside `joined` (True), else leave it (False)."""
    pending = _PENDING.get()
    if pending is None:
        return False
    pending.append(tell)
    return True


def deferring() -> bool:
    """Whether a call now is inside `joined` (its telling waits for the host's commit)."""
    return _PENDING.get() is not None
