"""`Checkout`: the DBAPI cursor a fast-path call uses, checked out for that one call and
returned right after; or the host's own connection inside `Engine.transaction`.

Why not the pool's checkout alone: a checkout (events, reset on return, and a round trip
on PostgreSQL with `pool_pre_ping`) is a sizeable share of a fire's own CPU time. So up to
`KEEP` returned connections wait here, with their cursor, for the next call of any thread.
They still count against the pool's limit, so nothing is hoarded while a thread may be
waiting: when the pool is at its limit (or hands connections to threads,
`SingletonThreadPool`) a returned connection goes straight back to the pool. No thread
holds a connection between calls (20 host threads sharing a pool of 15 take turns instead
of failing with "QueuePool limit reached").
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import Pool, QueuePool, SingletonThreadPool

from .errors import HostTransactionMissing
from .flush import WalFlush

KEEP = 4  # returned connections kept for the next call

_forks = 0  # bumped in a forked child: connections checked out by the parent are not ours


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


class _Pair:
    """A checked-out connection and its cursor."""

    __slots__ = ("conn", "cur")

    def __init__(self, conn: Any, cur: Any) -> None:
        self.conn, self.cur = conn, cur


def _at_full(cur: Any) -> bool:
    """The connection of a relaxed write back at `synchronous=FULL`; False when that failed
    (the connection is then dropped, never reused at NORMAL)."""
    try:
        cur.execute("PRAGMA synchronous=FULL")
    except Exception:  # noqa: BLE001 - whatever broke it
        return False
    return True


def _pool_limit(pool: Pool) -> int | None:
    """How many connections the pool hands out at most (None: no limit; 0: keep none)."""
    if isinstance(pool, SingletonThreadPool):
        return 0  # its connections belong to one thread each
    if isinstance(pool, QueuePool) and pool._max_overflow >= 0:
        return pool.size() + pool._max_overflow
    return None


class Checkout:
    """Cursors for single calls (`cursor()`), and transactions on them (`write()`).

    `write()`: BEGIN IMMEDIATE on SQLite, BEGIN on PostgreSQL (connections checked out here
    are in autocommit mode, so a lone SELECT needs no COMMIT round trip), COMMIT on
    success, ROLLBACK on any exception. Inside `using(connection)` the host's connection
    is used instead, and a write is a SAVEPOINT in the host's transaction: it commits or
    rolls back with it. A connection that failed in a way that may have broken it is
    invalidated. A reader must fetch every row of its SELECT.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self.begin = "BEGIN IMMEDIATE" if self._sqlite else "BEGIN"
        self._idle: list[_Pair] = []
        self._orphans: list[_Pair] = []  # a parent's connections after a fork: never touched
        self._forks = _forks
        self._limit = _pool_limit(engine.pool)
        self._lock = threading.Lock()
        self.host: ContextVar[Connection | None] = ContextVar(
            f"flowengine_host_{id(self)}", default=None)
        dbapi = engine.dialect.loaded_dbapi
        self.integrity_error: type[Exception] = dbapi.IntegrityError
        self._broken: tuple[type[Exception], ...] = (dbapi.OperationalError,
                                                     dbapi.InterfaceError)
        self.flush: WalFlush | None = None  # set by the store: see `flush_outside_the_lock`

    def flush_outside_the_lock(self, flush: WalFlush) -> None:
        """Write transactions from now on commit at `synchronous=NORMAL` under `flush`'s
        write lock and flush the WAL after releasing it (flush.py); the connections go back
        to the pool at the engine's own level (FULL)."""
        self.close()  # kept connections were configured without it
        self.flush = flush

    @property
    def sqlite(self) -> bool:
        """Whether the connections are SQLite's (else PostgreSQL's)."""
        return self._sqlite

    # ------------------------------------------------------------------ the host's transaction
    @contextmanager
    def using(self, connection: Connection) -> Iterator[None]:
        """Run this context's calls on `connection`, inside its open transaction."""
        if not connection.in_transaction():
            raise HostTransactionMissing(
                "the connection has no open transaction: begin one first "
                "(`with db.begin() as conn:` or `conn.begin()`)")
        token = self.host.set(connection)
        try:
            yield
        finally:
            self.host.reset(token)

    def joined(self) -> bool:
        """Whether this context's calls run in a host's transaction."""
        return self.host.get() is not None

    # ------------------------------------------------------------------ checkout / return
    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor for one call, returned when the call ends."""
        host = self.host.get()
        if host is not None:
            cur = host.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                yield cur
            finally:
                cur.close()
            return
        pair = self._checkout()
        try:
            yield pair.cur
        except BaseException as exc:
            self._checkin(pair, isinstance(exc, self._broken))
            raise
        self._checkin(pair, False)

    @contextmanager
    def write(self, wait: bool = True, relaxed: bool = False) -> Iterator[Any]:
        """A transaction (or, in a host's transaction, a savepoint) on a cursor.

        With a `WalFlush`, the call returns once the COMMIT is on disk; `wait=False` leaves
        that to the caller (`self.flush.flush()` after it). `relaxed` (SQLite, a store at
        `synchronous=FULL`): the COMMIT does not flush either, and the caller has the WAL
        flushed before it relies on it (behind.py); the connection is at FULL again after."""
        if self.host.get() is not None:
            with self._savepoint() as cur:
                yield cur
            return
        pair = self._checkout()
        cur = pair.cur
        flush = self.flush
        relax = relaxed and flush is None  # with a `WalFlush` it is at NORMAL already
        if flush is not None:
            flush.lock()
        try:
            if relax:
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(self.begin)
            yield cur
            cur.execute("COMMIT")
        except BaseException as exc:
            broken = isinstance(exc, self._broken)
            try:
                cur.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - no transaction, or no connection: drop it
                broken = True
            if relax and not _at_full(cur):
                broken = True
            if flush is not None:
                flush.unlock()
            self._checkin(pair, broken)
            raise
        broken = relax and not _at_full(cur)
        if flush is not None:
            flush.unlock()
        self._checkin(pair, broken)
        if flush is not None and wait and not relaxed:
            flush.flush()

    @contextmanager
    def _savepoint(self) -> Iterator[Any]:
        """`write` inside the host's transaction."""
        with self.cursor() as cur:
            if self._sqlite and not cur.connection.in_transaction:
                cur.execute("BEGIN")  # pysqlite begins late; the host's COMMIT ends it
            cur.execute("SAVEPOINT fe_write")
            try:
                yield cur
                cur.execute("RELEASE SAVEPOINT fe_write")
            except BaseException:
                cur.execute("ROLLBACK TO SAVEPOINT fe_write")
                cur.execute("RELEASE SAVEPOINT fe_write")
                raise

    def _checkout(self) -> _Pair:
        if self._forks != _forks:
            with self._lock:
                self._orphans += self._idle
                self._idle, self._forks = [], _forks
        try:
            return self._idle.pop()
        except IndexError:
            pass
        conn = self.engine.raw_connection()
        driver: Any = conn.driver_connection
        if self._sqlite:  # also on a host's connection made before the store configured it
            driver.execute("PRAGMA foreign_keys=ON").close()
            if self.flush is not None:  # its COMMITs are flushed after the lock is free
                driver.execute("PRAGMA synchronous=NORMAL").close()
        else:
            driver.autocommit = True
        return _Pair(conn, driver.cursor())

    def _checkin(self, pair: _Pair, broken: bool) -> None:
        if broken:
            pair.conn.invalidate()
            return
        limit, pool = self._limit, self.engine.pool
        with self._lock:
            if (self._forks == _forks and len(self._idle) < KEEP and limit != 0
                    and (limit is None or pool.checkedout() < limit)):  # type: ignore[attr-defined]
                self._idle.append(pair)
                return
        self._release(pair)

    def _release(self, pair: _Pair) -> None:
        """Back to the pool, configured as the pool handed it out."""
        try:
            pair.cur.close()
            if self.flush is not None:
                pair.conn.driver_connection.execute("PRAGMA synchronous=FULL").close()
            if not self._sqlite:
                driver: Any = pair.conn.driver_connection
                driver.autocommit = False
        except Exception:  # noqa: BLE001 - a connection that broke meanwhile
            pair.conn.invalidate()
            return
        pair.conn.close()

    def close(self) -> None:
        """Hand every kept connection back to the pool."""
        with self._lock:
            idle, self._idle = self._idle, []
        for pair in idle:
            self._release(pair)
