"""Read stored events for auditing: each with the hash of its stored bytes, and a row that
cannot even be decoded reported as such instead of crashing the audit.

Why a module of its own: replay (one case) and `audit verify` (every case) must read the
same way. On a store with `AuditReads` (the SQL store) the events come with their stored
body text, and the chain's content check hashes that text (see `stored_events` for why
that is the same check); decoding is done once, with orjson, straight into `Event`
objects. Other stores hand out `Event` objects and the audit re-serialises them to hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from operator import attrgetter
from typing import Any

import orjson

from ..errors import RecordUnreadable
from ..records.case import Case
from ..records.events import Event, event_from_json
from ..store.base import EVENT_COLUMNS, AuditReads, Store
from .records import BadRecord, Record, record_from_row


@dataclass(frozen=True)
class Unreadable:
    """A stored event whose body does not decode into an event."""

    case_id: str
    seq: int
    why: str


Row = tuple[Event, str | None] | Unreadable

# The `events` columns kept beside the hashed body (for queries); each must say what the
# body says.
COLUMNS = EVENT_COLUMNS

# The body's values of every column but `at`, in `COLUMNS` order, as one tuple (one call).
_rest_of_columns = attrgetter("type", "trigger", "source", "dest", "actor.name", "actor.role",
                              "process_id", "digest", "prev_hash")


def _column_values(event: Event) -> tuple[Any, ...]:
    return (event.at, *_rest_of_columns(event))


def _column_differs(event: Event, columns: tuple[Any, ...]) -> str | None:
    """The first column that does not hold what the event's body says (a column edited
    behind the engine's back misleads every query that reads it), or None."""
    values = _column_values(event)
    for name, stored, body in zip(COLUMNS, columns, values, strict=True):
        same = same_instant(stored, body) if name == "at" else stored == body
        if not same:
            shown = body.isoformat() if name == "at" else body
            return (f"the stored row's {name} column holds {stored!r} but its body says "
                    f"{shown!r}")
    return None


def same_instant(stored: Any, at: datetime) -> bool:
    if isinstance(stored, str):  # SQLite: the fixed-width UTC text `Instant` writes
        return stored == _utc_text(at)
    return isinstance(stored, datetime) and stored == at


def _utc_text(at: datetime) -> str:
    """`at` as `Instant` writes it on SQLite: UTC, always with six fraction digits."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def decode(case_id: str, seq: int, body: str | bytes, stored_hash: str,
           columns: tuple[Any, ...] | None = None) -> Row:
    """One stored row -> (event, SHA-256 of its stored body), or `Unreadable`;
    `columns`: the row's other columns (`COLUMNS`), checked against the body."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    number = seq if type(seq) is int else 0  # a tampered seq column may hold anything
    try:  # `events.event_from_json`: the freshly decoded dict becomes the event, no copies
        event = event_from_json(orjson.loads(raw), stored_hash)
    except Exception as exc:  # noqa: BLE001 - a tampered row can be broken in any way
        return Unreadable(case_id, number, f"the stored event cannot be read "
                                           f"({type(exc).__name__}: {exc})")
    if number != seq:
        return Unreadable(case_id, event.seq, f"the stored row's seq column holds {seq!r}, "
                                              "not an event number")
    if event.case_id != case_id:
        return Unreadable(case_id, event.seq, f"the stored row's case_id column holds "
                                              f"{case_id!r} but its body is of case "
                                              f"{event.case_id}")
    if type(stored_hash) is not str:
        return Unreadable(case_id, event.seq, f"the stored hash {stored_hash!r} is not text")
    if columns is not None:
        stored_at = columns[0]
        # the common case first: the other columns as one tuple, `at` as SQLite's text
        if not (columns[1:] == _rest_of_columns(event) and type(stored_at) is str
                and stored_at == _utc_text(event.at)):
            differs = _column_differs(event, columns)
            if differs is not None:
                return Unreadable(case_id, number, differs)
    return event, sha256(raw).hexdigest()


def stored_events(store: Store, case_id: str | None = None) -> Iterator[Row]:
    """Every event (or one case's), case by case and in sequence, streamed.

    On a store with `AuditReads` (the SQL store) the content hash is SHA-256 over the
    stored body text. The store writes `body = canonical(event.body())` and `chain_hash` is
    SHA-256 over exactly those UTF-8 bytes, so the stored hash matches the stored text if
    and only if the text is byte for byte what was hashed, and the event folded is decoded
    from that same text. Hashing the text directly skips re-serialising every event and
    also catches edits that would decode to the same values."""
    if isinstance(store, AuditReads):
        for row_case, seq, body, stored_hash, columns in store.stored_event_rows(case_id):
            yield decode(row_case, seq, body, stored_hash, columns)
        return
    events = store.events(case_id) if case_id is not None else store.all_events()
    for event in events:
        yield event, None


def readable_history(store: Store, case_id: str) -> list[Event]:
    """One case's events for display and export; `CaseNotFound` when it has none, and
    `ChainBroken` (exit 1, naming the event) when a stored row cannot even be read."""
    from ..errors import CaseNotFound, ChainBroken

    events: list[Event] = []
    for row in stored_events(store, case_id):
        if isinstance(row, Unreadable):
            raise ChainBroken(case_id, row.seq, row.why)
        events.append(row[0])
    if not events:
        raise CaseNotFound(case_id)
    return events


def load_cases(store: Store, case_ids: list[str],
               columns: dict[str, dict[str, Any]] | None = None) -> dict[str, Record]:
    """The stored records of `case_ids` (a case without one is left out): with
    `AuditReads` one read, each row checked column by column (`records.record_from_row`),
    and a row the database driver cannot even convert found case by case; else
    `load_case` each. `columns` receives each raw row by case (for `derived.py`)."""
    if not isinstance(store, AuditReads):
        loaded = {case_id: store.load_case(case_id) for case_id in case_ids}
        return {k: v for k, v in loaded.items() if v is not None}
    try:
        return _records(store, case_ids, columns)
    except RecordUnreadable:
        pass
    found = (load_record(store, case_id) for case_id in case_ids)
    return _by_id(found)


def load_record(store: Store, case_id: str) -> Record | None:
    """One case's stored record, as `load_cases` reads it; None when there is none."""
    if not isinstance(store, AuditReads):
        return store.load_case(case_id)
    try:
        return _records(store, [case_id]).get(case_id)
    except RecordUnreadable as exc:  # the driver's error, unconverted value named
        cause = exc.__cause__ or exc
        text = str(cause).strip()
        why = text.splitlines()[0] if text else type(cause).__name__
        return BadRecord(case_id, f"the stored case record cannot be read: {why}")


def _records(store: AuditReads, case_ids: list[str],
             raw: dict[str, dict[str, Any]] | None = None) -> dict[str, Record]:
    """Raw column values (no type processing that could fail), checked row by row."""
    rows = store.case_record_rows(case_ids)
    if raw is not None:
        raw.update((str(r["id"]), r) for r in rows)
    return _by_id([record_from_row(r) for r in rows])


def _by_id(records: Iterable[Record | None]) -> dict[str, Record]:
    return {r.id if isinstance(r, Case) else r.case_id: r for r in records if r is not None}


def cases_without_events(store: Store) -> Iterator[str] | None:
    """Ids of case records that have no event at all, found by the database (an anti-join
    on the events' (case_id, seq) index); None when the store has no `AuditReads`."""
    if not isinstance(store, AuditReads):
        return None
    return store.cases_without_events()


__all__ = ["Row", "Unreadable", "cases_without_events", "decode", "load_cases", "load_record",
           "readable_history", "stored_events"]
