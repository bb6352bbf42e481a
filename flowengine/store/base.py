"""The `Store` protocol: where cases, events, timers and pinned definitions live.

`Store` is what every store must do. The optional capabilities (`GroupCommit`,
`BatchLoad`, `HeldProjection`, `ProvisionalIndex`, `KeepsFailures`, `DefersCases`,
`JoinsTransactions`) are protocols of their own: the engine asks
`isinstance(store, GroupCommit)` once, uses the capability when the store has it and a
slower equivalent (or a clear refusal) when not, so a host's own store may leave them out.

`AuditReads` and `TransparencyLog` are what the audit (`flowengine.audit`) reads beyond
`Store`: the rows as stored, nothing converted that a tampered column could make fail, so
the audit can name the broken case instead of crashing. The SQL store implements them
(`store/audit_reads.py`); on a store without them the audit works from `Store` alone
(the memory store: no stored bytes to re-hash, no recorded times, no log).

The engine sees storage only through this protocol. `append` is the one write a fire makes:
the events, the new projection, the case's next timer and its outbox rows commit together
or not at all, and it fails with `ConcurrentUpdate` when another writer appended first
(optimistic concurrency on the per-case sequence number).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from ..records.case import Case
from ..records.events import Event
from ..records.lifecycle import OutboxStatus

if TYPE_CHECKING:  # annotations only: this module imports neither SQLAlchemy nor the schema
    from sqlalchemy import Connection

    from .failures import FailureBook


@dataclass(frozen=True)
class CaseQuery:
    process_id: str | None = None
    state: str | None = None
    overdue: bool | None = None
    limit: int | None = None


@dataclass
class OutboxRow:
    """One notification to deliver through one channel; `id` is its idempotency key."""

    id: str  # "<case>:<seq>:<index>:<channel>"
    case_id: str
    seq: int
    channel: str
    created_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)  # the notification record
    status: OutboxStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class AppendItem(NamedTuple):
    """One case's part of a group commit: `append`'s arguments."""

    case: Case
    events: Sequence[Event]
    expected_seq: int
    final: bool
    outbox: Sequence[OutboxRow]


@runtime_checkable
class Store(Protocol):
    def new_case_id(self, process_id: str) -> str:
        """A fresh, unique case id."""

    def save_definition(self, digest: str, process_id: str, version: str, text: str,
                        duplicate_key: Sequence[str] = ()) -> None:
        """Keep a definition version (idempotent by digest) so its cases can be replayed;
        `duplicate_key`: the fields its `duplicate_key` names (a SQL store indexes open
        cases by their values; the store never parses the definition text itself)."""

    def definition_text(self, digest: str) -> str | None:
        """The YAML text of a pinned definition version, if stored."""

    def append(self, case: Case, events: Sequence[Event], expected_seq: int,
               final: bool = False, outbox: Sequence[OutboxRow] = ()) -> None:
        """Atomically add `events`, replace the projection with `case` (`final`: it is in a
        final state) and add the `outbox` rows; `ConcurrentUpdate` if the case's last
        sequence number is not `expected_seq`."""

    def load_case(self, case_id: str) -> Case | None:
        """The stored projection as a new object the caller owns: the engine folds a fire's
        events into it (changing it never changes what is stored until `append`)."""

    def events(self, case_id: str) -> Iterator[Event]: ...

    def all_events(self) -> Iterator[Event]:
        """Every event, case by case and in sequence (streamed; bounded memory)."""

    def cases(self, query: CaseQuery) -> list[Case]: ...

    def due_cases(self, now: datetime, limit: int = 1000) -> list[str]:
        """Ids of cases whose next timer is at or before `now`, earliest first."""

    def find_open_duplicate(self, process_id: str, key: dict[str, object]) -> str | None:
        """The id of an open (not final) case of the process with the same duplicate key."""

    def find_finished_duplicate(self, process_id: str, key: dict[str, object],
                                since: datetime) -> str | None:
        """The id of the most recently finished (final) case of the process with the same
        duplicate key whose last event is at or after `since` (the look-back)."""

    def due_outbox(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        """Pending rows whose next attempt is due, oldest first."""

    def record_delivery(self, row_id: str, *, at: datetime, ok: bool, error: str | None = None,
                        next_attempt_at: datetime | None = None, dead: bool = False) -> None:
        """Write the outcome of one delivery attempt (attempts + 1)."""

    def outbox(self, status: str | None = None, case_id: str | None = None) -> list[OutboxRow]:
        """Outbox rows, optionally by status and case, oldest first."""

    def retry_outbox(self, row_id: str | None, now: datetime) -> int:
        """Make dead rows (one, or all when None) pending again; returns how many."""


@runtime_checkable
class GroupCommit(Protocol):
    """Optional: many cases' appends in one transaction (the engine's tick). Without it
    the engine appends case by case."""

    def append_many(self, items: Sequence[AppendItem]) -> list[bool]:
        """`append` for each item in one transaction (group commit: one flush for all). An
        item whose `expected_seq` is stale (another writer won) is skipped, without undoing
        the others (its claim is left: the winner's append cleared any taken before it);
        returns, per item, whether it committed.

        A store may also take, as keywords, `one_transaction=True` (write only what one
        transaction takes, and answer for those) and `durable=False` (return after the
        COMMIT; a `flushed()` method of the store then returns once it is on disk): the
        tick uses whichever the signature shows (sql.py)."""


@runtime_checkable
class BatchLoad(Protocol):
    """Optional: many cases read at once (the engine's tick). Without it the engine calls
    `load_case` for each."""

    def load_cases(self, case_ids: Sequence[str]) -> list[Case]:
        """`load_case` for each id, in the order given, leaving out ids with no case. The
        engine's tick reads a group of due cases with it; a host's store may leave it out
        (the engine then calls `load_case` for each)."""


@runtime_checkable
class HeldProjection(Protocol):
    """Optional: the projection the store itself last wrote for a case, when it still holds
    it, so a fire can be planned without a read (the engine re-plans on a fresh read when
    that plan fails)."""

    def recent_case(self, case_id: str) -> Case | None:
        """The held projection of `case_id` as an object the caller owns, or None; the
        store may hand a held projection out once (then None until its next write)."""


@runtime_checkable
class ProvisionalIndex(Protocol):
    """Optional: open cases found by the provisional year of their deadlines (reconcile).
    Without it the engine scans the process's open cases."""

    def provisional_cases(self, process_id: str, years: Sequence[int], limit: int = 1000) -> list[str]:
        """Ids of open cases of the process whose earliest provisional deadline year (see
        `codec.provisional_from`) is one of `years`. Optional: without it the engine's
        reconcile scans the process's open cases."""


@runtime_checkable
class KeepsFailures(Protocol):
    """Optional: a book of per-case tick failures that outlives the engine (the SQL store's
    `case_failures` table), so back-off continues across runs and processes. Without it the
    engine keeps the book in memory for its own lifetime."""

    failure_book: FailureBook


@runtime_checkable
class DefersCases(Protocol):
    """Optional: put a failing case aside until its retry time, so the next `due_cases`
    does not hand it out again before then."""

    def defer_case(self, case_id: str, until: datetime) -> None:
        """Leave `case_id` out of `due_cases` until `until`."""


@runtime_checkable
class JoinsTransactions(Protocol):
    """Optional: write through a host's own database connection and transaction
    (`Engine.transaction`). A store without it cannot join one (the memory store)."""

    def using(self, connection: Connection) -> AbstractContextManager[None]:
        """Within the context, every call writes in `connection`'s open transaction."""


# ---------------------------------------------------------------------------- audit reads
# The `events` columns kept beside the hashed body for queries, in the order
# `StoredEventRow.columns` holds them; each must say what the body says.
EVENT_COLUMNS = ("at", "type", "trigger", "source", "dest", "actor_name", "actor_role",
                 "process_id", "digest", "prev_hash")


class StoredEventRow(NamedTuple):
    """One `events` row as stored. Only `body` is typed (the stored text, or its UTF-8
    bytes); the other values are whatever the column holds, for the audit to judge."""

    case_id: Any
    seq: Any
    body: str | bytes
    hash: Any
    columns: tuple[Any, ...]  # EVENT_COLUMNS, in that order


class EventHeadRow(NamedTuple):
    """An event's place: its case, number, hash and log index as stored (`body` and
    `recorded_at` only when asked for, else None)."""

    case_id: Any
    seq: Any
    hash: Any
    log_index: Any
    body: Any = None
    recorded_at: Any = None


class EventPlace(NamedTuple):
    """An event and its place in the log (raw values; `digest` the event's digest column
    where asked for)."""

    case_id: Any
    seq: Any
    log_index: Any
    digest: Any = None


class LogRow(NamedTuple):
    """A sequenced event as the transparency log reads it (raw values)."""

    index: Any
    case_id: Any
    seq: Any
    recorded_at: Any
    hash: Any


class StoredOutboxEntry(NamedTuple):
    """One outbox row as the audit reads it (raw values; `payload` the stored text)."""

    case_id: Any
    id: Any
    seq: Any
    channel: Any
    created_at: Any
    payload: Any


class DefinitionRow(NamedTuple):
    digest: Any
    text: Any


class RecordedRow(NamedTuple):
    """An event's claimed instant (`at` column) and the database's recorded time (raw)."""

    case_id: Any
    seq: Any
    at: Any
    recorded_at: Any


@runtime_checkable
class AuditReads(Protocol):
    """Optional: the stored rows as they are, for `audit verify`, replay and export."""

    def stored_event_rows(self, case_id: str | None = None) -> Iterator[StoredEventRow]:
        """Every event row (or one case's), in (case, seq) order, streamed."""

    def case_record_rows(self, case_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The `cases` rows of `case_ids`, column name -> raw value, in one read;
        `RecordUnreadable` (caused by the driver's error) when the driver cannot even
        convert a stored value (PostgreSQL's `infinity` timestamp)."""

    def cases_without_events(self) -> Iterator[str]:
        """Ids of case records that have no event at all."""

    def definition_rows(self) -> list[DefinitionRow]:
        """Every stored definition (digest, text), by digest."""

    def definition_digests(self, process_id: str) -> list[str]:
        """The digests of every stored version of the process, by digest."""

    def outbox_entries(self, case_ids: Sequence[str]) -> Iterator[StoredOutboxEntry]:
        """The outbox rows of `case_ids`, by case and id."""

    def outbox_stream(self) -> Iterator[StoredOutboxEntry]:
        """Every outbox row, by case, seq and id, streamed (what a checkpoint covers)."""

    def recorded_times(self, case_id: str) -> Iterator[tuple[Any, Any]]:
        """(seq, recorded_at) of each event of the case, in sequence."""

    def backdating_rows(self) -> Iterator[RecordedRow]:
        """Every event with a recorded time that is not a timer, in (case, seq) order."""

    def event_heads(self, with_body: bool = False) -> Iterator[EventHeadRow]:
        """Every event's place, in (case, seq) order, streamed (with body and recorded
        time when `with_body`)."""

    def event_count(self) -> int:
        """How many events the store holds."""

    def log_places(self, case_ids: Sequence[str]) -> Iterator[EventPlace]:
        """Where the events of `case_ids` stand in the log (log index None: not yet
        sequenced), by case and seq."""

    def pinning_events(self, digests: Sequence[str]) -> Iterator[EventPlace]:
        """The `started` events (seq 1) whose `digest` column is one of `digests`: the
        entries that pin their cases to those definition versions, by case."""


@runtime_checkable
class TransparencyLog(Protocol):
    """Optional: the store-wide log of events (`audit checkpoint`, docs/audit.md)."""

    def sequence_log(self) -> int:
        """Give the events without a log index the next ones (in write order, under a
        lock); the log's size. The one write an audit command makes."""

    def log_rows(self, below: int | None = None) -> Iterator[LogRow]:
        """The sequenced events in log order (index < `below` when given), streamed."""

    def database_time(self) -> datetime:
        """The database's clock, as an aware datetime (the engine reads none of its own)."""
