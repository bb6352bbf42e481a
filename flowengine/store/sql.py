"""`SqlStore`: the durable `Store` on SQLite (default) or PostgreSQL, SQLAlchemy 2 Core.

One `append` is one transaction: the projection row is written first with the optimistic
check (`UPDATE … WHERE id = :id AND seq = :expected`, or an INSERT for a new case), then the
events, then the outbox rows (`ON CONFLICT DO NOTHING` on the idempotency key). If another
writer got there first the UPDATE matches no row (or a unique key fires), the transaction
rolls back and `ConcurrentUpdate` is raised; nothing else is ever written to `events`.
`append_many` (group commit, used by the engine's tick) does the same for many cases in
few transactions: a case that lost the race has written nothing and is skipped alone; a
transaction where a statement fails is redone with a SAVEPOINT per case.
With `group_commit=True` concurrent `append`s of several threads share one transaction and
one flush, each in its own SAVEPOINT (group.py).

SQLite: a file in WAL mode, `synchronous=FULL` (every commit reaches the disk) unless the URL
says `?synchronous=normal` (survives a process crash, may lose the last commits in a power
cut). PostgreSQL: READ COMMITTED; the seq check holds because a concurrent UPDATE of the
same row waits and then re-reads it. Timers: `due_page` reads due cases with their rows
and claims nothing (a lone tick writes each due row once, by its append); `due_cases`
claims due cases for a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) so several workers
share the work, which the tick turns to once another writer shows up; exactly-once firing
does not depend on the lease but on the seq check. See docs/storage.md.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from base64 import b32encode
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import URL, Connection, Engine, Select, bindparam, cast, func, literal, not_, select, update
from sqlalchemy.exc import OperationalError

from ..errors import ConcurrentUpdate, DuplicateStarted, RecordUnreadable
from ..records.case import Case
from ..records.events import Event
from . import migrations
from .access import read_only_hint
from .audit_reads import SqlAuditReads
from .base import AppendItem, CaseQuery, OutboxRow
from .behind import FlushBehind
from .checkout import Checkout
from .checkpoint import Checkpointer
from .codec import case_values, decode_case, dup_key, load_data
from .connect import configure_sqlite, instant_from_db, is_memory, open_engine
from .errors import DatabaseUnavailable
from .failures import SqlFailures
from .flush import WalFlush
from .group import GroupCommit, url_flag
from .rowcache import RowCache
from .schema import cases, definitions, events, outbox
from .sqlrows import (
    CASE_COLUMNS,
    CASE_INSTANTS,
    CASE_NAMES,
    CHANGING,
    LOAD_CHUNK,
    OUTBOX_COLUMNS,
    SEEN_MAX,
    DueRow,
    Statements,
    check_sequence,
    event_from_body,
    key_fields,
    outbox_from,
    outbox_row,
)
from .translate import translated

_NEXT_TIMER = CASE_NAMES.index("next_timer_at")
LOCK_BUDGET = 0.020  # seconds: how long one transaction of append_many holds the write lock
CLAIM_CHUNK = 250  # due cases claimed per transaction: a claim rewrites each claimed row
Write = tuple[str, Any, bool]  # a statement, its parameters, and whether they are many rows


@translated(lambda store: store.busy_seconds)
class SqlStore(SqlAuditReads):
    """The `Store` protocol on a database URL or a host's SQLAlchemy `Engine`.

    `synchronous` (SQLite only): "full" (default), "normal", "extra" (or "off", for
    measuring CPU cost only); a URL query `?synchronous=normal` sets it too.
    `claim_seconds`: how long a worker's claim on a due timer or outbox row keeps other
    workers away (the claims of a worker that died run out after that).
    `busy_timeout_ms` (SQLite): how long a writer waits for the lock before failing.
    `group_commit`: concurrent appends from this process's threads share one transaction
    and one disk flush, each still durable when its call returns (group.py,
    docs/storage.md); off by default.
    `read_only` (a URL, not a host's engine): for auditors (docs/audit.md). The database
    must exist and have the current schema; SQLite opens it with `mode=ro` (`immutable=1`
    with `immutable`: an evidence copy nothing else writes), PostgreSQL in read-only
    transactions; every write fails and nothing, not even the journal mode, is changed.

    Thread-safe: each call checks a connection out of the engine's pool and returns it
    (checkout.py). Driver errors come out as `StoreError`s (store/errors.py). Inside
    `using(connection)` calls run in the host's transaction (docs/engine.md, embedding).
    """

    def __init__(self, db: str | URL | Engine, *, synchronous: str | None = None,
                 claim_seconds: float = 300, busy_timeout_ms: int = 30_000,
                 read_only: bool = False, immutable: bool = False,
                 group_commit: bool = False) -> None:
        self._owned = not isinstance(db, Engine)
        if not isinstance(db, Engine):
            db, group_commit = url_flag(db, "group_commit", group_commit)
        self.engine = db if isinstance(db, Engine) else open_engine(
            db, synchronous, busy_timeout_ms, read_only=read_only, immutable=immutable)
        if not self._owned and self.engine.dialect.name == "sqlite":
            configure_sqlite(self.engine, synchronous or "full", busy_timeout_ms,
                             explicit_begin=False)
        self.url = self.engine.url.render_as_string(hide_password=True)
        self._pg = self.engine.dialect.name == "postgresql"
        self.busy_seconds = None if self._pg else busy_timeout_ms / 1000
        self._claim = timedelta(seconds=claim_seconds)
        self._reader = self.engine.execution_options(flowengine_begin="NONE")
        self._writer = self.engine.execution_options(flowengine_begin="IMMEDIATE")
        self._dup_by_digest: dict[str, tuple[str, ...]] = {}
        try:
            migrations.prepare(self.engine, self.url, create=not read_only)
        except OperationalError as exc:
            self.close()
            hint = read_only_hint(exc.orig, immutable) if read_only else ""
            raise DatabaseUnavailable(f"cannot open {self.url}: {exc.orig}{hint}") from None
        except BaseException:
            self.close()
            raise
        self._held = Checkout(self.engine)
        self._rows = RowCache(CHANGING, limit=SEEN_MAX, joined=self._held.joined)
        self._sql = Statements(self.engine)
        self.group = GroupCommit(self._held) if group_commit else None
        own_file = self._own_file(read_only)
        if group_commit and own_file is not None:
            # its write transactions flush the WAL after releasing the write lock, so
            # writers of other processes need not wait for the disk (flush.py)
            wal = self._wal_flush(own_file)
            if wal is not None:
                self._held.flush_outside_the_lock(wal)
        self.lock_budget = LOCK_BUDGET
        self.claim_chunk = CLAIM_CHUNK
        # the tick's checkpoints (checkpoint.py) and flushes (behind.py, `_flusher`)
        self.checkpointer = Checkpointer(own_file) if own_file is not None else None
        self._behind_file = own_file  # None: no flushes behind (or refused when first asked)
        self._behind: FlushBehind | None = None
        self._behind_wal: WalFlush | None = None  # its WAL, when group commit has none
        self._making_behind = threading.Lock()
        self.failure_book = SqlFailures(self._writer, self._reader, self.busy_seconds)

    def _own_file(self, read_only: bool) -> str | None:
        """The SQLite file this store opened itself to write, else None (PostgreSQL, an
        in-memory database, a host's engine, a read-only store): only there does the store
        flush the WAL itself or checkpoint it from a thread of its own."""
        url = self.engine.url
        if not self._owned or self._pg or read_only or is_memory(url):
            return None
        return url.database

    def _wal_flush(self, database: str) -> WalFlush | None:
        """The WAL flush of a SQLite file this store opened at `synchronous=FULL`, for group
        commit (its flush outside the write lock) and the tick (its flushes behind it);
        None where its COMMITs should flush as they are: a level other than FULL, driver
        options in the URL (a URI filename: the path may not be the file opened), a lock
        file that cannot be made (a read-only folder), a pin that cannot read the database
        (another program holds it locked)."""
        if self.engine.url.query:
            return None
        with self._reader.connect() as conn:
            if conn.exec_driver_sql("PRAGMA synchronous").scalar() != 2:  # FULL
                return None
        try:
            return WalFlush(database)
        except (OSError, sqlite3.Error):
            return None

    def _flusher(self) -> FlushBehind | None:
        """The thread that flushes the tick's transactions behind it (behind.py), made on
        first use: for a SQLite file this store opened itself at `synchronous=FULL` (with
        group commit's `WalFlush`, its flush); None elsewhere, where each COMMIT flushes
        as before (PostgreSQL, a host's engine, a level set in the URL, a file whose WAL
        cannot be held open)."""
        with self._making_behind:
            if self._behind is None and self._behind_file is not None:
                held = self._held.flush
                if held is None:
                    held = self._behind_wal = self._wal_flush(self._behind_file)
                if held is None:
                    self._behind_file = None  # asked once
                else:
                    self._behind = FlushBehind(held.flush)
            return self._behind

    def flushed(self) -> None:
        """Return once every transaction `append_many(..., durable=False)` committed is on
        disk (`FlushFailed` if a flush failed)."""
        behind = self._behind
        if behind is not None:
            behind.wait()

    def using(self, connection: Connection) -> AbstractContextManager[None]:
        """Run this context's calls in `connection`'s open transaction: its writes commit or
        roll back with it. Nothing read or written inside is cached (it may be undone)."""
        return self._held.using(connection)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A Core connection for a read: the host's inside `using`, else a pooled one."""
        host = self._held.host.get()
        if host is not None:
            yield host
            return
        with self._reader.connect() as conn:
            yield conn

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Hand back the connections; dispose of the engine when the store created it."""
        behind = getattr(self, "_behind", None)
        if behind is not None:  # first: its last flush may be group commit's
            behind.close()  # after flushing what it was asked to
        held = getattr(self, "_held", None)
        if held is not None:
            held.close()
            if held.flush is not None:
                held.flush.close()
        wal = getattr(self, "_behind_wal", None)
        if wal is not None:
            wal.close()
        checkpointer = getattr(self, "checkpointer", None)
        if checkpointer is not None:
            checkpointer.close()
        if self._owned:
            self.engine.dispose()

    dispose = close

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ definitions
    def new_case_id(self, process_id: str) -> str:
        """`C` + 16 base32 characters of a random UUID (76 random bits): unique across
        processes and machines without a round trip; a collision would surface as
        `ConcurrentUpdate` on the primary key, never as two cases sharing an id."""
        return "C" + b32encode(uuid.uuid4().bytes).decode("ascii")[:16].lower()

    def save_definition(self, digest: str, process_id: str, version: str, text: str,
                        duplicate_key: Sequence[str] = ()) -> None:
        keys = sorted(duplicate_key)
        row = {"digest": digest, "process_id": process_id, "version": version, "text": text,
               "duplicate_key": json.dumps(keys) if keys else None}
        with self._writer.begin() as conn:
            conn.execute(self._sql.save_definition, row)

    def definition_text(self, digest: str) -> str | None:
        stmt = select(definitions.c.text).where(definitions.c.digest == digest)
        with self._read() as conn:
            return conn.execute(stmt).scalar()

    # ------------------------------------------------------------------ the one write
    def append(self, case: Case, events: Sequence[Event], expected_seq: int,
               final: bool = False, outbox: Sequence[OutboxRow] = (), *,
               new_petition: bool = False) -> None:
        """`new_petition` (the engine's starts): check again, inside the transaction, that
        no open case has the new case's duplicate key; `DuplicateStarted` if one has."""
        check_sequence(case, events, expected_seq)
        # most fires change no data: the data text and duplicate key of the row held at
        # `expected_seq` are then still the case's, not encoded and hashed again
        row = self._case_row(case, final, self._same_data(case.id, events, expected_seq))
        # the statements and their parameters are made here, before the write lock is
        # taken: a writer (of any process, with group commit) holds it only to run them
        first = self._case_write(case, row, expected_seq)
        rest = self._rest_writes(events, outbox)

        def statements(cur: Any) -> None:
            if new_petition and row["dup_key"] is not None and not row["final"]:
                self._no_open_duplicate(cur, case.id, row["dup_key"])
            self._run_append(cur, case.id, first, rest)

        try:
            if self.group is not None and not self._held.joined():
                self.group.run(statements)
            else:
                with self._held.write() as cur:
                    statements(cur)
        except BaseException as exc:
            self._rows.forget(case.id)  # whatever we held of this case may be stale
            if not isinstance(exc, self._held.integrity_error):
                raise
            current = self._stored_seq(case.id)
            if current is None:
                raise  # not a lost race: e.g. the pinned definition was never saved
            raise ConcurrentUpdate(case.id, current + 1) from None
        self._rows.remember(case.id, case.seq, row, case.copy())

    def append_many(self, items: Sequence[AppendItem], *,
                    one_transaction: bool = False, durable: bool = True) -> list[bool]:
        """Group commit: `append` for each `(case, events, expected_seq, final, outbox)` in
        as few transactions as `lock_budget` allows: a transaction that has held the write
        lock that long commits after its current case and the next one takes the rest
        (other writers wait at most about that long; a fast machine still commits hundreds
        of cases per flush). A case whose sequence number moved on (another writer won) is
        skipped; the others commit. Returns, per item, whether it was committed (all of
        them are durable when this returns). A skipped case's claim is left alone: the
        winner's append already cleared any claim taken before it, so a claim on the row
        now is another worker's, taken since (a tick paging without claims never had one).

        `one_transaction`: write only what the first transaction takes (at least one item)
        and answer for those: the list is then shorter than `items` when the budget ran
        out, and the caller passes the rest again. The engine's tick does, so that it plans
        its next cases before the next transaction: the lock is free meanwhile, where
        transactions begun right after one another leave another writer next to no moment
        to take it (it waited through two or three of them, bench/RESULTS-store.md). On a
        SQLite file the `checkpointer` then copies the WAL back meanwhile (checkpoint.py).

        `durable=False` (the tick): return after the COMMIT, which a thread of the store's
        own flushes meanwhile (on a SQLite file at `synchronous=FULL`: behind.py); the
        caller calls `flushed()` before it relies on what was written.

        Each transaction is first tried in bulk (`_write_bulk`); if a statement fails
        there, it is rolled back and redone case by case, each inside its own SAVEPOINT
        (`_write_each`), so a case that fails never spoils the others."""
        for case, evs, expected, _, _ in items:
            check_sequence(case, evs, expected)
        rows = [self._case_row(case, final, self._same_data(case.id, evs, expected))
                for case, evs, expected, final, _ in items]
        behind = None if durable or self._held.joined() else self._flusher()
        done: list[bool] = []
        try:
            while len(done) < len(items):
                done += self._write_one(items, rows, len(done), behind)
                if one_transaction:
                    if self.checkpointer is not None:  # while the tick plans its next cases
                        self.checkpointer.nudge()
                    break
        except BaseException:
            for case, *_ in items:  # some may be committed, some not: forget them all
                self._rows.forget(case.id)
            raise
        # nothing kept of the cases written: a tick's are seldom fired next, and their rows,
        # kept, pushed the rows and projections of the cases that are out of the cache and
        # held the tick's memory to its end (rowcache.py)
        for case, *_ in items[:len(done)]:
            self._rows.forget(case.id)
        return done

    def _write_one(self, items: Sequence[AppendItem], rows: list[dict[str, Any]], start: int,
                   behind: FlushBehind | None) -> list[bool]:
        """One transaction of `append_many` from `start` (flushed by `behind` when given)."""
        relaxed = behind is not None
        try:
            with self._transaction(relaxed) as cur:
                part = self._write_bulk(cur, items, rows, start)
        except self._held.integrity_error:  # rolled back: again, case by case
            with self._transaction(relaxed) as cur:
                part = self._write_each(cur, items, rows, start)
        if behind is not None:
            behind.request()
        return part

    def _transaction(self, relaxed: bool) -> AbstractContextManager[Any]:
        """A transaction of `append_many`: `relaxed`, its COMMIT is flushed behind it."""
        return self._held.write(relaxed=True) if relaxed else self._held.write()

    def _write_bulk(self, cur: Any, items: Sequence[AppendItem],
                    rows: list[dict[str, Any]], start: int) -> list[bool]:
        """The cases of one transaction from `start`, without savepoints: a case whose
        sequence check fails has written nothing (its UPDATE matched no row) and is
        skipped; any statement that raises leaves the whole transaction to be rolled back
        and redone by `_write_each`."""
        held_since = time.monotonic()
        done: list[bool] = []
        for (case, evs, expected, _, rows_out), row in zip(items[start:], rows[start:],
                                                            strict=True):
            if self._run_case_write(cur, self._case_write(case, row, expected)):
                self._run(cur, self._rest_writes(evs, rows_out))
                done.append(True)
            else:
                done.append(False)
            if time.monotonic() - held_since > self.lock_budget:
                break
        return done

    def _write_each(self, cur: Any, items: Sequence[AppendItem],
                    rows: list[dict[str, Any]], start: int) -> list[bool]:
        """The cases of one transaction from `start`, each inside its own SAVEPOINT."""
        held_since = time.monotonic()
        done: list[bool] = []
        for (case, evs, expected, _, rows_out), row in zip(items[start:], rows[start:],
                                                            strict=True):
            done.append(self._write_or_skip(cur, case, row, evs, expected, rows_out))
            if time.monotonic() - held_since > self.lock_budget:
                break
        return done

    def _write_or_skip(self, cur: Any, case: Case, row: dict[str, Any], evs: Sequence[Event],
                       expected: int, outbox: Sequence[OutboxRow]) -> bool:
        """One case of `append_many` in its savepoint; False (rolled back) when another
        writer moved it on."""
        cur.execute("SAVEPOINT fe_case")
        try:
            self._write(cur, case, row, evs, expected, outbox)
        except (ConcurrentUpdate, self._held.integrity_error) as exc:
            cur.execute("ROLLBACK TO SAVEPOINT fe_case")
            if not isinstance(exc, ConcurrentUpdate) and not self._exists(cur, case.id):
                raise  # not a lost race: e.g. the pinned definition was never saved
            cur.execute("RELEASE SAVEPOINT fe_case")
            return False
        cur.execute("RELEASE SAVEPOINT fe_case")
        return True

    def recent_case(self, case_id: str) -> Case | None:
        """The projection this store itself last wrote for the case, if it still holds it,
        without reading the database (an object the caller owns: the store stops holding
        it, so a second call before the next write answers None). Another writer may have
        appended since: the engine plans a fire from it, and decides again on a fresh
        `load_case` when the append's sequence check fails or the fire is refused."""
        return self._rows.take(case_id)

    def _same_data(self, case_id: str, events: Sequence[Event],
                   expected_seq: int) -> dict[str, Any] | None:
        """The row held for the case at `expected_seq` when `events` change none of its
        data (a tick's timer events, most fires: the fold changes data only through an
        event's `data`), so its data text and duplicate key are still the case's; else
        None."""
        if expected_seq == 0 or any(e.data for e in events):
            return None
        return self._rows.row(case_id, expected_seq)

    def _case_row(self, case: Case, final: bool,
                  same_data: dict[str, Any] | None = None) -> dict[str, Any]:
        convert = self._sql.convert
        row = case_values(case, final, self._dup_fields(case.digest), same_data)
        for name in CASE_INSTANTS:  # the only values whose database form differs
            row[name] = convert(row[name])
        return row

    def _write(self, cur: Any, case: Case, row: dict[str, Any], events: Sequence[Event],
               expected_seq: int, outbox: Sequence[OutboxRow]) -> None:
        """The statements of one append, inside the caller's transaction."""
        self._run_append(cur, case.id, self._case_write(case, row, expected_seq),
                         self._rest_writes(events, outbox))

    def _run_append(self, cur: Any, case_id: str, first: Write, rest: Sequence[Write]) -> None:
        """Run an append's statements (`_case_write`, `_rest_writes`);
        `ConcurrentUpdate`, with nothing written, when the sequence check fails."""
        if not self._run_case_write(cur, first):
            raise ConcurrentUpdate(case_id, self._seq_in(cur, case_id) + 1)
        self._run(cur, rest)

    def _case_write(self, case: Case, row: dict[str, Any], expected_seq: int) -> Write:
        """The projection row's statement: an INSERT for a new case, else an UPDATE of the
        columns that changed, with the sequence check."""
        sql = self._sql
        if expected_seq == 0:
            return sql.insert_case.sql, sql.insert_case.pick(row), False
        update = sql.update_of(self._rows.changed(row, expected_seq))
        row["k_id"], row["k_seq"] = case.id, expected_seq
        return update.sql, update.pick(row), False

    def _rest_writes(self, events: Sequence[Event], outbox: Sequence[OutboxRow]) -> list[Write]:
        """The statements of an append's events and outbox rows."""
        sql = self._sql
        out: list[Write] = [
            (sql.insert_event.sql, sql.event_args(events[0]), False) if len(events) == 1 else
            (sql.insert_event.sql, [sql.event_args(e) for e in events], True)]
        if outbox:
            out.append((sql.insert_outbox.sql,
                        [sql.insert_outbox.args(outbox_row(r)) for r in outbox], True))
        return out

    @staticmethod
    def _run_case_write(cur: Any, write: Write) -> bool:
        """Run the projection row's statement; False when it matched no row (the UPDATE's
        sequence check failed: nothing written)."""
        cur.execute(write[0], write[1])
        return bool(cur.rowcount == 1)

    @staticmethod
    def _run(cur: Any, writes: Sequence[Write]) -> None:
        for stmt, args, many in writes:
            if many:
                cur.executemany(stmt, args)
            else:
                cur.execute(stmt, args)

    def _no_open_duplicate(self, cur: Any, case_id: str, key: str) -> None:
        """Serialised duplicate check of a new case, in its insert's transaction: starts of
        the same petition queue on SQLite's write lock (BEGIN IMMEDIATE) or, on PostgreSQL,
        on a transaction lock on the key; the later one finds the earlier one open."""
        args = {"k_key": key, "k_id": case_id}
        lock = self._sql.key_lock
        if lock is not None:
            cur.execute(lock.sql, lock.args(args))
            cur.fetchall()
        found = self._sql.open_duplicate
        cur.execute(found.sql, found.args(args))
        rows = cur.fetchall()
        if rows:
            raise DuplicateStarted(case_id, str(rows[0][0]))

    def _seq_in(self, cur: Any, case_id: str) -> int:
        cur.execute(self._sql.seq_of.sql, self._sql.seq_of.args({"k_id": case_id}))
        found = cur.fetchone()
        return int(found[0]) if found else 0

    def _exists(self, cur: Any, case_id: str) -> bool:
        cur.execute(self._sql.seq_of.sql, self._sql.seq_of.args({"k_id": case_id}))
        return cur.fetchone() is not None

    def _stored_seq(self, case_id: str) -> int | None:
        with self._read() as conn:
            return conn.execute(select(cases.c.seq).where(cases.c.id == case_id)).scalar()

    def _dup_fields(self, digest: str) -> tuple[str, ...]:
        """The duplicate key the definition version declares (cached per digest)."""
        fields = self._dup_by_digest.get(digest)
        if fields is None:
            stmt = select(definitions.c.duplicate_key).where(definitions.c.digest == digest)
            with self._read() as conn:
                fields = key_fields(conn.execute(stmt).scalar())
            self._dup_by_digest[digest] = fields
        return fields

    # ------------------------------------------------------------------ reads
    def load_case(self, case_id: str) -> Case | None:
        load = self._sql.load_case
        with self._held.cursor() as cur:
            cur.execute(load.sql, self._sql.load_key(case_id))
            rows = cur.fetchall()  # to the end: the statement must not stay open
        if not rows:
            return None
        values = dict(zip(CASE_NAMES, rows[0], strict=True))
        self._rows.remember(case_id, values["seq"], values)
        return decode_case(values, instant_from_db)

    def load_cases(self, case_ids: Sequence[str]) -> list[Case]:
        """`load_case` for many ids, `LOAD_CHUNK` per SELECT (a tick's due cases), in the
        order given; an id with no case is left out."""
        load = self._sql.load_cases
        rows: dict[str, tuple[Any, ...]] = {}
        with self._held.cursor() as cur:
            for i in range(0, len(case_ids), LOAD_CHUNK):
                chunk = list(case_ids[i:i + LOAD_CHUNK])
                chunk += [chunk[-1]] * (LOAD_CHUNK - len(chunk))
                cur.execute(load.sql, load.args({f"k{j}": k for j, k in enumerate(chunk)}))
                rows.update((row[0], row) for row in cur.fetchall())
        out = []
        for case_id in case_ids:
            row = rows.get(case_id)
            if row is not None:
                values = dict(zip(CASE_NAMES, row, strict=True))
                self._rows.remember(case_id, values["seq"], values)
                out.append(decode_case(values, instant_from_db))
        return out

    def events(self, case_id: str) -> Iterator[Event]:
        stmt = (select(events.c.body, events.c.hash).where(events.c.case_id == case_id)
                .order_by(events.c.seq))
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return iter([event_from_body(body, h) for body, h in rows])

    def all_events(self, batch: int = 2000) -> Iterator[Event]:
        """Every event, case by case in sequence, streamed `batch` rows at a time (a
        server-side cursor on PostgreSQL), so memory stays flat on millions of events."""
        stmt = select(events.c.body, events.c.hash).order_by(events.c.case_id, events.c.seq)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(stmt)
            for body, h in result:
                yield event_from_body(body, h)

    def cases(self, query: CaseQuery) -> list[Case]:
        stmt = select(*CASE_COLUMNS).order_by(cases.c.created_at, cases.c.id)
        if query.process_id:
            stmt = stmt.where(cases.c.process_id == query.process_id)
        if query.state:
            stmt = stmt.where(cases.c.state == query.state)
        if query.overdue is not None:
            stmt = stmt.where(cases.c.overdue == query.overdue)
        if query.limit:
            stmt = stmt.limit(query.limit)
        with self._reader.connect() as conn:
            try:
                return [decode_case(r._mapping) for r in conn.execute(stmt)]
            except (ValueError, TypeError) as exc:  # an instant column the type cannot read
                raise RecordUnreadable(None, f"{type(exc).__name__}: {exc}") from exc

    def find_open_duplicate(self, process_id: str, key: dict[str, object]) -> str | None:
        """The oldest open case of the process whose data has the same key values.

        When `key` is a duplicate key some version of the process declares (the engine's
        case), one probe of the `dup_key` index finds the candidates; any other key is
        narrowed in SQL on the JSON data (a scan of the process's open cases). Candidates
        are then compared exactly on the typed data, as the memory store does."""
        stmt = (select(cases.c.id, cases.c.data)
                .where(cases.c.process_id == process_id, not_(cases.c.final))
                .order_by(cases.c.created_at, cases.c.id))
        return self._first_duplicate(stmt, process_id, key)

    def find_finished_duplicate(self, process_id: str, key: dict[str, object],
                                since: datetime) -> str | None:
        """The newest final case of the process with the same key values whose last event
        is at or after `since`. Final cases are not in the partial `dup_key` index (it
        covers open cases only), so this reads the process's recently updated final
        cases through `ix_cases_process`; it runs once per start of a process that
        declares `duplicate_lookback`."""
        stmt = (select(cases.c.id, cases.c.data)
                .where(cases.c.process_id == process_id, cases.c.final,
                       cases.c.updated_at >= since)
                .order_by(cases.c.updated_at.desc(), cases.c.id.desc()))
        return self._first_duplicate(stmt, process_id, key)

    def _first_duplicate(self, stmt: Select[Any], process_id: str,
                         key: dict[str, object]) -> str | None:
        fields = tuple(sorted(key))
        if fields in self._declared_keys(process_id):
            stmt = stmt.where(cases.c.dup_key == dup_key(process_id, fields, key))
        else:
            stmt = self._narrow(stmt, {k: v for k, v in key.items()
                                       if isinstance(v, (str, int, bool))})
        with self._read() as conn:
            for case_id, data in conn.execute(stmt):
                typed = load_data(data)
                if all(typed.get(k) == v for k, v in key.items()):
                    return str(case_id)
        return None

    def provisional_cases(self, process_id: str, years: Sequence[int], limit: int = 1000) -> list[str]:
        """Ids of open cases of `process_id` whose first provisional deadline year is one of
        `years` (one probe of the partial index `ix_cases_provisional`)."""
        if not years:
            return []
        stmt = (select(cases.c.id)
                .where(cases.c.process_id == process_id,
                       cases.c.provisional_from.in_(sorted(set(years))), not_(cases.c.final))
                .order_by(cases.c.id).limit(limit))
        with self._reader.connect() as conn:
            return [str(r[0]) for r in conn.execute(stmt)]

    def _declared_keys(self, process_id: str) -> set[tuple[str, ...]]:
        stmt = select(definitions.c.duplicate_key).where(definitions.c.process_id == process_id)
        with self._read() as conn:
            return {key_fields(k) for k in conn.execute(stmt).scalars()}

    def _narrow(self, stmt: Select[Any], plain: dict[str, Any]) -> Select[Any]:
        if not plain:
            return stmt
        if self._pg:
            from sqlalchemy.dialects import postgresql  # slow to import: only on PostgreSQL

            doc = json.dumps(plain, ensure_ascii=False)
            return stmt.where(cast(cases.c.data, postgresql.JSONB).op("@>")(
                cast(literal(doc), postgresql.JSONB)))
        for name, value in plain.items():
            stmt = stmt.where(func.json_extract(cases.c.data, f'$."{name}"') == value)
        return stmt

    # ------------------------------------------------------------------ timers
    def due_cases(self, now: datetime, limit: int = 1000) -> list[str]:
        """Due, unclaimed cases, earliest first, claimed until `now + claim_seconds`.

        The first query is a read on the `next_timer_at` index; a tick with nothing due
        stops there (no write, no case loaded). Due cases are then claimed by UPDATEs of
        at most `claim_chunk` rows, each its own transaction (`FOR UPDATE SKIP LOCKED` on
        PostgreSQL: workers skip each other's rows): a claim rewrites every claimed row,
        so a bounded chunk bounds how long it holds the write lock."""
        due = self._sql.due_cases
        with self._reader.connect() as conn:
            if conn.execute(due.limit(limit), {"now": now}).first() is None:
                return []
        rows: list[Any] = []
        while len(rows) < limit:
            chunk = min(self.claim_chunk, limit - len(rows))
            found = self._claim_due(due.limit(chunk), now)
            rows += found
            if len(found) < chunk:
                break
        return [case_id for case_id, _ in sorted(rows, key=lambda r: (r[1], r[0]))]

    def due_page(self, now: datetime, after: Any = None, limit: int = 1000) -> list[DueRow]:
        """Due, unclaimed cases whose timer is at or after `after` (`DueRow.key` of the
        last row of the previous page; the caller skips the cases it has seen), earliest
        first, with their rows, without claiming them: one range read on the
        `next_timer_at` index, which visits each due row anyway (the claim column is not in
        the index), so reading the whole row here spares `load_cases` a second look-up per
        case. The engine's tick pages through these and writes each case once, in its
        append (whose sequence check keeps a timer from firing twice), instead of first
        rewriting every due row for a claim; it turns to `due_cases` (claims) once another
        writer shows up (`Engine.tick`)."""
        prepared, sql = self._sql.due_page(after is not None, limit)
        params = {"now": now} if after is None else {"now": now, "k_at": after}
        with self._held.cursor() as cur:
            cur.execute(sql, prepared.args(params))
            rows = cur.fetchall()
        at = _NEXT_TIMER
        return [DueRow(str(row[0]), row[at], row) for row in rows]

    def cases_of(self, rows: Sequence[DueRow]) -> list[Case]:
        """The cases of rows `due_page` read (what `load_cases` would have read then)."""
        out = []
        for _, _, row in rows:
            values = dict(zip(CASE_NAMES, row, strict=True))
            self._rows.remember(values["id"], values["seq"], values)
            out.append(decode_case(values, instant_from_db))
        return out

    def _claim_due(self, due: Select[Any], now: datetime) -> list[Any]:
        if self._pg:
            due = due.with_for_update(skip_locked=True)
        claim = (update(cases).where(cases.c.id.in_(due.scalar_subquery()))
                 .values(claimed_until=bindparam("until"))
                 .returning(cases.c.id, cases.c.next_timer_at))
        with self._writer.begin() as conn:
            return list(conn.execute(claim, {"now": now, "until": now + self._claim}).all())

    def defer_case(self, case_id: str, until: datetime) -> None:
        """Leave a case whose timers failed out of `due_cases` until `until` (a longer
        claim; the case's next write releases it)."""
        with self._writer.begin() as conn:
            conn.execute(update(cases).where(cases.c.id == case_id).values(claimed_until=until))

    # ------------------------------------------------------------------ outbox
    def due_outbox(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        """Pending rows due by `now`, oldest first, claimed for `claim_seconds` (their
        `due_at` moves to the end of the claim until `record_delivery` settles them)."""
        due = (select(outbox.c.id).where(outbox.c.status == "pending",
                                         outbox.c.due_at <= bindparam("now"))
               .order_by(outbox.c.due_at, outbox.c.id).limit(limit))
        with self._reader.connect() as conn:
            if conn.execute(due, {"now": now}).first() is None:
                return []
        if self._pg:
            due = due.with_for_update(skip_locked=True)
        claim = (update(outbox).where(outbox.c.id.in_(due.scalar_subquery()))
                 .values(due_at=bindparam("until")).returning(*OUTBOX_COLUMNS))
        with self._writer.begin() as conn:
            rows = [outbox_from(r) for r in conn.execute(
                claim, {"now": now, "until": now + self._claim})]
        return sorted(rows, key=lambda r: (r.next_attempt_at or r.created_at, r.id))

    def record_delivery(self, row_id: str, *, at: datetime, ok: bool, error: str | None = None,
                        next_attempt_at: datetime | None = None, dead: bool = False) -> None:
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1}
        if ok:
            values.update(status="delivered", delivered_at=at, last_error=None)
        else:
            values.update(status="dead" if dead else "pending", last_error=error,
                          next_attempt_at=next_attempt_at,
                          due_at=next_attempt_at if next_attempt_at else outbox.c.created_at)
        with self._writer.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))

    def outbox(self, status: str | None = None, case_id: str | None = None) -> list[OutboxRow]:
        stmt = select(*OUTBOX_COLUMNS).order_by(outbox.c.created_at, outbox.c.id)
        if status is not None:
            stmt = stmt.where(outbox.c.status == status)
        if case_id is not None:
            stmt = stmt.where(outbox.c.case_id == case_id)
        with self._reader.connect() as conn:
            return [outbox_from(r) for r in conn.execute(stmt)]

    def retry_outbox(self, row_id: str | None, now: datetime) -> int:
        stmt = (update(outbox).where(outbox.c.status == "dead")
                .values(status="pending", attempts=0, next_attempt_at=now, due_at=now))
        if row_id is not None:
            stmt = stmt.where(outbox.c.id == row_id)
        with self._writer.begin() as conn:
            return conn.execute(stmt).rowcount
