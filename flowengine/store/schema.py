"""The SQL store's tables (SQLAlchemy Core), shared by `SqlStore` and the migration tests.

The Alembic revisions (`migrations/versions/`) build exactly these tables: 0001 with its own
frozen copy of the DDL, later ones changing it in place; a test compares the head revision
with this module so they cannot drift.

- `definitions`: every process definition version a case was started on, by content digest.
- `cases`: the projection queries and timers read (state, data, deadlines, flags, the next
  timer instant). `next_timer_at` is indexed (cases that have one): a tick is one index
  range scan. `dup_key` is a hash of the values of the definition's `duplicate_key` fields
  (indexed among open cases that have one), so finding a duplicate petition is one probe.
- `events`: the append-only history; `body` is `canonical(event.body())` byte for byte, so
  the hash chain can be checked against exactly what was hashed. UNIQUE(case_id, seq) is the
  last line of defence of optimistic concurrency. `recorded_at` (the database's clock) and
  `log_index` (the transparency log) are outside the hashed body (docs/audit.md).
- `outbox`: notifications to deliver, written in the same transaction as their events;
  `id` is the idempotency key, `due_at` (next attempt, or creation) is indexed with status.
- `case_failures` (revision 0005): the last failure of a case's timers (tick, worker) or
  recount (reconcile), its attempts and next attempt, so the back-off goes on across runs
  and processes (store/failures.py); a row is deleted when the case next succeeds.

Instants are stored in UTC: `timestamp with time zone` on PostgreSQL; on SQLite fixed-width
ISO text (`2026-03-02T01:00:00.000000+00:00`), whose text order is time order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlalchemy.util import PopulateDict, memoized_property


class Instant(TypeDecorator[datetime]):
    """A timezone-aware instant; always handed back in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"instant {value.isoformat()} has no time zone offset")
        value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return value.astimezone(UTC)  # type: ignore[no-any-return]


class PartialIndex(Index):
    """An index with a WHERE clause for SQLite and for PostgreSQL (`sqlite_where`,
    `postgresql_where`, as on `Index`).

    Why not `Index(..., postgresql_where=...)`: SQLAlchemy checks a dialect's keyword
    arguments by importing that dialect, so defining these tables imported the PostgreSQL
    dialect on every start, SQLite included (the largest single cost of a command line
    start, bench/bench_cli.py). Here the PostgreSQL clause is set when the index's
    PostgreSQL options are first asked for (creating the index or comparing it on
    PostgreSQL, where the dialect is loaded anyway), so it is there for every reader of
    `dialect_options` and `dialect_kwargs` from then on."""

    def __init__(self, name: str, *columns: str, postgresql_where: TextClause,
                 **kwargs: Any) -> None:
        self._postgresql_where = postgresql_where
        super().__init__(name, *columns, **kwargs)

    @memoized_property
    def dialect_options(self) -> PopulateDict[str, Any]:
        return PopulateDict(self._options_for)

    def _options_for(self, dialect_name: str) -> Any:
        options = self._kw_reg_for_dialect_cls(dialect_name)
        if dialect_name == "postgresql":
            options["where"] = self._postgresql_where
        return options


def _id() -> String:
    return String(64)


metadata = MetaData()

definitions = Table(
    "definitions", metadata,
    Column("digest", String(64), primary_key=True),
    Column("process_id", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("duplicate_key", Text, nullable=True),  # JSON list of field names, if declared
    Column("loaded_at", Instant, nullable=False, server_default=func.current_timestamp()),
)

cases = Table(
    "cases", metadata,
    Column("id", _id(), primary_key=True),
    Column("process_id", String(200), nullable=False),
    Column("digest", String(64), ForeignKey("definitions.digest"), nullable=False),
    Column("state", String(200), nullable=False),
    Column("data", Text, nullable=False),  # tagged JSON (codec.dump_data)
    Column("deadlines", Text, nullable=False),  # JSON list of deadline documents
    Column("seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("overdue", Boolean, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("final", Boolean, nullable=False),
    Column("duplicate_of", _id(), nullable=True),
    Column("dup_key", String(64), nullable=True),  # hash of the duplicate-key values
    Column("owner", Text, nullable=True),
    Column("owner_role", String(200), nullable=True),
    Column("created_at", Instant, nullable=True),
    Column("updated_at", Instant, nullable=True),
    Column("next_timer_at", Instant, nullable=True),
    Column("claimed_until", Instant, nullable=True),  # a worker's lease on the due timer
    # (revision 0003) the first year of a provisional calendar an open deadline's due date
    # was counted over; NULL for nearly every case, so the partial index stays tiny
    Column("provisional_from", Integer, nullable=True),
    # partial (revision 0002): only rows the queries can match (`next_timer_at <= :now`,
    # `dup_key = :key` imply NOT NULL), so cases without a timer or duplicate key, and
    # closing such a case, cost these indexes nothing
    PartialIndex("ix_cases_next_timer_at", "next_timer_at",
                 sqlite_where=text("next_timer_at IS NOT NULL"),
                 postgresql_where=text("next_timer_at IS NOT NULL")),
    Index("ix_cases_process", "process_id"),  # not state: most fires change it
    PartialIndex("ix_cases_open_dup", "dup_key",
                 sqlite_where=text("final = 0 AND dup_key IS NOT NULL"),
                 postgresql_where=text("NOT final AND dup_key IS NOT NULL")),
    # (revision 0005) finished cases by duplicate key, newest last event first: the
    # look-back for a repeat of a finished petition is one index range, not a read of the
    # process's recently finished cases
    PartialIndex("ix_cases_finished_dup", "dup_key", "updated_at",
                 sqlite_where=text("final = 1 AND dup_key IS NOT NULL"),
                 postgresql_where=text("final AND dup_key IS NOT NULL")),
    PartialIndex("ix_cases_overdue", "overdue",
                 sqlite_where=text("overdue = 1"), postgresql_where=text("overdue")),
    PartialIndex("ix_cases_provisional", "process_id", "provisional_from",
                 sqlite_where=text("provisional_from IS NOT NULL"),
                 postgresql_where=text("provisional_from IS NOT NULL")),
)

events = Table(
    "events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("case_id", _id(), ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", Instant, nullable=False),
    Column("type", String(20), nullable=False),
    Column("trigger", String(200), nullable=True),
    Column("source", String(200), nullable=True),
    Column("dest", String(200), nullable=True),
    Column("actor_name", Text, nullable=False),
    Column("actor_role", String(200), nullable=True),
    Column("process_id", String(200), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("body", Text, nullable=False),  # canonical(event.body()), exactly what was hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # (revision 0004) the database's own clock when the row was written (the INSERT sets
    # it: RECORDED_AT); NULL for rows written before 0004 ("unknown"). Not in the body.
    Column("recorded_at", Instant, nullable=True),
    # (revision 0004) the event's place in the store-wide transparency log, given by the
    # sequencer at `audit checkpoint` (audit/log.py); NULL until then. Partial index: an
    # append does not touch it.
    Column("log_index", BigInteger, nullable=True),
    UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
    PartialIndex("ux_events_log_index", "log_index", unique=True,
                 sqlite_where=text("log_index IS NOT NULL"),
                 postgresql_where=text("log_index IS NOT NULL")),
)

# The database's clock, as the INSERT of an event sets `recorded_at`: PostgreSQL's `now()`
# (the transaction's start), SQLite's current time in the fixed-width text of `Instant`.
RECORDED_AT = {
    "postgresql": "now()",
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')",
}

outbox = Table(
    "outbox", metadata,
    Column("id", String(300), primary_key=True),  # "<case>:<seq>:<index>:<channel>"
    Column("case_id", _id(), ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("channel", String(200), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON of the notification record
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Instant, nullable=True),
    Column("due_at", Instant, nullable=False),  # next_attempt_at, or created_at, or a lease
    Column("last_error", Text, nullable=True),
    Column("delivered_at", Instant, nullable=True),
    Index("ix_outbox_status_due", "status", "due_at"),
    Index("ix_outbox_case", "case_id"),
)

case_failures = Table(
    "case_failures", metadata,
    Column("case_id", _id(), ForeignKey("cases.id"), primary_key=True),
    Column("operation", String(20), nullable=False),  # "timers" | "reconcile"
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("failed_at", Instant, nullable=False),
    Column("next_attempt_at", Instant, nullable=False),
)
