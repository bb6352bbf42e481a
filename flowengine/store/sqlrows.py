"""The SQL store's statements and row shapes: which columns a fire may change, the hot-path
statements compiled once per store (`Statements`), and the mapping between `Event` /
`OutboxRow` objects and their rows. Kept apart from `sql.py` so the store's methods read as
the protocol they implement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any, NamedTuple

from sqlalchemy import Engine, Text, bindparam, cast, func, literal_column, not_, or_, select, update

from ..records.case import Case
from ..records.events import Event, canonical, canonical_bytes, event_from_dict
from .base import OutboxRow
from .connect import Prepared, same
from .schema import RECORDED_AT, cases, definitions, events, outbox

CASE_COLUMNS = [c for c in cases.c if c.name not in ("claimed_until",)]
OUTBOX_COLUMNS = [c for c in outbox.c if c.name != "due_at"]
# the columns an append after the first can change (an index whose columns are not SET is
# not touched by SQLite's UPDATE): not the id, process, version, owner or creation time
CHANGING = ("state", "data", "deadlines", "seq", "last_hash", "overdue", "late", "final",
            "duplicate_of", "dup_key", "updated_at", "next_timer_at", "provisional_from",
            "claimed_until")
COMPARED = CHANGING[:-1]  # with the row last seen: claimed_until is always set (a release)
CASE_NAMES = tuple(c.name for c in CASE_COLUMNS)
CASE_INSTANTS = ("created_at", "updated_at", "next_timer_at")
# the columns an event's INSERT binds: not the id, nor those the database fills
# (`recorded_at`, from its own clock) or the sequencer gives later (`log_index`)
EVENT_NAMES = tuple(c.name for c in events.c if c.name not in ("id", "recorded_at", "log_index"))
LOAD_CHUNK = 100  # cases read per SELECT by `load_cases` (a short chunk repeats its last id)
SEEN_MAX = 4096  # rows remembered to SET only what changed (one fire: load, then append)


class DueRow(NamedTuple):
    """A due case as `SqlStore.due_page` read it: its id, its paging key (the stored
    `next_timer_at`: the next page starts there) and its `cases` row (`CASE_NAMES` order,
    the database's form)."""

    id: str
    key: Any
    row: tuple[Any, ...]


class Statements:
    """The statements of the hot path, compiled once per store; and the Core ones that
    SQLAlchemy's compiled cache serves."""

    def __init__(self, engine: Engine) -> None:
        # The dialect's own module only (importing PostgreSQL's would slow every SQLite start).
        insert = import_module(f"sqlalchemy.dialects.{engine.dialect.name}").insert
        self.insert_case = Prepared(cases.insert(), engine, [c.name for c in cases.c])
        self._engine = engine
        self._updates: dict[tuple[str, ...], Prepared] = {}
        self._pages: dict[tuple[bool, int], tuple[Prepared, str]] = {}
        self.update_case = self.update_of(CHANGING)
        self.convert = self.update_case.convert
        self.seq_of = Prepared(select(cases.c.seq).where(cases.c.id == bindparam("k_id")),
                               engine)
        self.load_case = Prepared(
            select(*CASE_COLUMNS).where(cases.c.id == bindparam("k_id")), engine)
        clock: Any = literal_column(RECORDED_AT[engine.dialect.name])
        filled: dict[str, Any] = {"recorded_at": clock}
        # SQLite: the body is bound as the UTF-8 bytes it was hashed from and stored as
        # the same TEXT (a BLOB cast to TEXT is taken as text in the database's encoding,
        # byte for byte), instead of decoded to a str here for the driver to encode again
        # (the audit reads it back the same way, as bytes: audit_reads.py)
        self._body_bytes = engine.dialect.name == "sqlite"
        if self._body_bytes:
            filled["body"] = cast(bindparam("body"), Text)
        self.insert_event = Prepared(events.insert().values(**filled), engine,
                                     list(EVENT_NAMES))
        self.load_key = (lambda k: (k,)) if self.load_case.names else (lambda k: {"k_id": k})
        self.load_cases = Prepared(
            select(*CASE_COLUMNS).where(cases.c.id.in_(
                [bindparam(f"k{i}") for i in range(LOAD_CHUNK)])), engine)
        self.insert_outbox = Prepared(
            insert(outbox).on_conflict_do_nothing(index_elements=["id"]), engine,
            [c.name for c in outbox.c])
        self.open_duplicate = Prepared(
            select(cases.c.id).where(cases.c.dup_key == bindparam("k_key"), not_(cases.c.final),
                                     cases.c.id != bindparam("k_id"))
            .order_by(cases.c.created_at, cases.c.id), engine)  # few: one petition's open cases
        self.key_lock = (Prepared(select(func.pg_advisory_xact_lock(
            func.hashtext(bindparam("k_key")))), engine)
            if engine.dialect.name == "postgresql" else None)
        self.save_definition = insert(definitions).on_conflict_do_nothing(
            index_elements=["digest"])
        self.due_cases = (select(cases.c.id)
                          .where(cases.c.next_timer_at <= bindparam("now"),
                                 or_(cases.c.claimed_until.is_(None),
                                     cases.c.claimed_until <= bindparam("now")))
                          .order_by(cases.c.next_timer_at))

    def due_page(self, after: bool, limit: int) -> tuple[Prepared, str]:
        """`SqlStore.due_page`'s statement (for its parameters) and SQL: due, unclaimed
        cases' rows in `next_timer_at` order (the index's: nothing to sort, however many
        cases fall due at one instant), from `:k_at` on when `after`, at most `limit`
        (written into the SQL: both dialects say `LIMIT n`)."""
        found = self._pages.get((after, limit))
        if found is None:
            stmt = self.due_cases.with_only_columns(*CASE_COLUMNS)
            if after:
                stmt = stmt.where(cases.c.next_timer_at >= bindparam(
                    "k_at", type_=cases.c.next_timer_at.type))
            prepared = Prepared(stmt, self._engine)
            found = self._pages[(after, limit)] = (prepared, f"{prepared.sql} LIMIT {int(limit)}")
        return found

    def event_args(self, e: Event) -> Any:
        """The DBAPI parameters of an event's INSERT."""
        values = event_values(e, self.convert, _body_bytes if self._body_bytes else _body_text)
        if self.insert_event.names == EVENT_NAMES:
            return values
        return self.insert_event.pick(dict(zip(EVENT_NAMES, values, strict=True)))

    def update_of(self, columns: tuple[str, ...]) -> Prepared:
        """UPDATE … SET `columns` WHERE id and the seq check (compiled once per set)."""
        found = self._updates.get(columns)
        if found is None:
            stmt = update(cases).where(cases.c.id == bindparam("k_id"),
                                       cases.c.seq == bindparam("k_seq"))
            found = self._updates[columns] = Prepared(stmt, self._engine, list(columns))
        return found


def key_fields(stored: str | None) -> tuple[str, ...]:
    return tuple(sorted(json.loads(stored))) if stored else ()


def check_sequence(case: Case, evs: Sequence[Event], expected: int) -> None:
    """Refuse a malformed append (an engine bug), which the database could not see."""
    seq = expected
    for e in evs:
        seq += 1
        if e.seq != seq or e.case_id != case.id:
            raise ValueError(f"case {case.id}: events {[(x.case_id, x.seq) for x in evs]} "
                             f"do not follow seq {expected}")
    if case.seq != seq:
        raise ValueError(f"case {case.id}: the projection (seq {case.seq}) does not match "
                         f"the events appended after seq {expected}")


def _body_text(e: Event) -> str:
    return e.canonical_body()


def _body_bytes(e: Event) -> bytes:
    sealed = e.sealed_body
    return sealed if sealed is not None else canonical_bytes(e.body())


def event_values(e: Event, convert: Callable[[Any], Any] = same,
                 body: Callable[[Event], Any] = _body_text) -> tuple[Any, ...]:
    """The `events` row's values in `EVENT_NAMES` order (`at` in the database's form when
    `convert` is given; the body as `body` gives it: its text, or its UTF-8 bytes)."""
    actor = e.actor
    return (e.case_id, e.seq, convert(e.at), e.type, e.trigger, e.source, e.dest, actor.name,
            actor.role, e.process_id, e.digest, body(e), e.prev_hash, e.hash)


def event_row(e: Event, convert: Callable[[Any], Any] = same) -> dict[str, Any]:
    """The `events` row, by column name."""
    return dict(zip(EVENT_NAMES, event_values(e, convert), strict=True))


def event_from_body(body: str, hash_: str) -> Event:
    doc = json.loads(body)
    doc["hash"] = hash_
    return event_from_dict(doc)


def outbox_row(r: OutboxRow) -> dict[str, Any]:
    return {
        "id": r.id, "case_id": r.case_id, "seq": r.seq, "channel": r.channel,
        "created_at": r.created_at, "payload": canonical(r.payload), "status": r.status,
        "attempts": r.attempts, "next_attempt_at": r.next_attempt_at,
        "due_at": r.next_attempt_at or r.created_at, "last_error": r.last_error,
        "delivered_at": r.delivered_at,
    }


def outbox_from(row: Any) -> OutboxRow:
    fields = dict(row._mapping)
    fields["payload"] = json.loads(fields["payload"])
    return OutboxRow(**fields)
