"""`MemoryStore`: the in-memory `Store` used by simulations, tests and embedding hosts that
need no durability. Same semantics as the SQL store (sequence check, copies in and out).

Events are kept as flat tuples of their field values (the actor as name and role), not as
`Event` objects, and built again when read. Why: the history only grows, and Python's
cyclic garbage collector scans every container that is still tracked; an `Event` is two
(the object and its dict, since it holds an `Actor`), while a tuple of strings, numbers,
instants and JSON-only dicts is untracked by the collector's first pass and never scanned
again. The tuple also drops the canonical text the event was hashed from, which only a
database store writes.

Each case's projection is kept the same way, as one flat tuple (`_case_row`), for the same
reason: a `Case` is two tracked objects (the object and its dict, which holds the owner
`Actor`), so ten thousand kept cases were twenty thousand objects every full collection
scans, and enough new ones to trigger full collections while cases are being started. The
tuple holds the owner as name and role and the data as a tuple of names and one of values
(a tuple holding any dict stays tracked), so it is untracked once the collector has passed
over it; a case whose data holds a list, or that has deadlines (kept as `Deadline` copies),
stays tracked, as before. A `Case` put there by hand (tests tamper with the
projection so) is read as it is.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..errors import ConcurrentUpdate
from ..records.built import built
from ..records.case import Actor, Case, Deadline
from ..records.events import Event
from .base import AppendItem, CaseQuery, OutboxRow
from .codec import provisional_from
from .failures import MemoryFailures


def _row(e: Event) -> tuple[Any, ...]:
    """An event as it is kept: its values in one flat tuple, the data as a tuple of names
    and one of values (a tuple holding a dict is never untracked by the collector; one
    holding tuples of plain values is, once the collector has passed over both)."""
    actor, data = e.actor, e.data
    return (e.case_id, e.seq, e.at, e.type, actor.name, actor.role, e.process_id, e.digest,
            e.trigger, e.source, e.dest, tuple(data), tuple(data.values()), e.effects,
            e.notifications, e.prev_hash, e.hash, e.duplicate_of)


def _event(row: tuple[Any, ...] | Event) -> Event:
    """The event a kept row stands for (equal to the one appended, without its canonical
    text); an `Event` put in the history by hand (tests tamper with it so) as it is."""
    if isinstance(row, Event):
        return row
    (case_id, seq, at, kind, name, role, process_id, digest, trigger, source, dest, names,
     values, effects, notes, prev_hash, hash_, duplicate_of) = row
    return built(Event, {
        "case_id": case_id, "seq": seq, "at": at, "type": kind, "actor": Actor(name, role),
        "process_id": process_id, "digest": digest, "trigger": trigger, "source": source,
        "dest": dest, "data": dict(zip(names, values, strict=True)), "effects": effects,
        "notifications": notes,
        "prev_hash": prev_hash, "hash": hash_, "duplicate_of": duplicate_of,
        "sealed_body": None})


CaseRow = tuple[Any, ...]


def _case_row(c: Case) -> CaseRow:
    """A case as it is kept: a flat tuple; deadlines copied (the caller keeps its own)."""
    owner, data, deadlines = c.owner, c.data, c.deadlines
    return (c.id, c.process_id, c.digest, c.state, tuple(data), tuple(data.values()),
            tuple(d.copy() for d in deadlines.values()) if deadlines else (), c.seq,
            c.last_hash, c.created_at, c.updated_at,
            owner.name if owner is not None else None, owner.role if owner is not None else None,
            c.duplicate_of)


def _deadlines(row: CaseRow | Case) -> tuple[Deadline, ...]:
    return tuple(row.deadlines.values()) if isinstance(row, Case) else row[6]


class MemoryStore:
    def __init__(self) -> None:
        self._cases: dict[str, CaseRow | Case] = {}
        self._owners: dict[tuple[str, str | None], Actor] = {}  # one Actor per owner kept
        self._events: dict[str, list[tuple[Any, ...] | Event]] = {}
        self._definitions: dict[str, str] = {}
        self._final: dict[str, bool] = {}
        self._ids = itertools.count(1)
        self._outbox: dict[str, OutboxRow] = {}
        self.failure_book = MemoryFailures(lambda case_id: self._final.get(case_id, False))

    def new_case_id(self, process_id: str) -> str:
        return f"C{next(self._ids):06d}"

    def save_definition(self, digest: str, process_id: str, version: str, text: str,
                        duplicate_key: Sequence[str] = ()) -> None:
        self._definitions.setdefault(digest, text)

    def definition_text(self, digest: str) -> str | None:
        return self._definitions.get(digest)

    def append(self, case: Case, events: Sequence[Event], expected_seq: int,
               final: bool = False, outbox: Sequence[OutboxRow] = ()) -> None:
        stored = self._cases.get(case.id)
        current = 0 if stored is None else stored.seq if isinstance(stored, Case) else stored[7]
        if current != expected_seq:
            raise ConcurrentUpdate(case.id, current + 1)
        rows = self._events.get(case.id)
        if rows is None:
            rows = self._events[case.id] = []
        rows += map(_row, events)
        self._cases[case.id] = _case_row(case)
        self._final[case.id] = final
        for row in outbox:
            self._outbox.setdefault(row.id, replace(row))

    def append_many(self, items: Sequence[AppendItem]) -> list[bool]:
        done = []
        for case, events, expected_seq, final, outbox in items:
            try:
                self.append(case, events, expected_seq, final, outbox)
            except ConcurrentUpdate:
                done.append(False)
            else:
                done.append(True)
        return done

    def _case(self, row: CaseRow | Case) -> Case:
        """A new `Case` (the caller's own) from a kept row."""
        if isinstance(row, Case):
            return row.copy()
        (case_id, process_id, digest, state, names, values, deadlines, seq, last_hash,
         created_at, updated_at, owner_name, owner_role, duplicate_of) = row
        owner = None
        if owner_name is not None:
            owner = self._owners.get((owner_name, owner_role))
            if owner is None:  # frozen: one object serves every case of that owner
                owner = self._owners[(owner_name, owner_role)] = Actor(owner_name, owner_role)
        return built(Case, {
            "id": case_id, "process_id": process_id, "digest": digest, "state": state,
            # `_case_row` made both from one dict; no `strict=` argument: a keyword argument
            # alone makes the call half as slow again, and this runs on every read
            "data": dict(zip(names, values)),  # noqa: B905
            "deadlines": {d.name: d.copy() for d in deadlines} if deadlines else {},
            "seq": seq, "last_hash": last_hash, "created_at": created_at,
            "updated_at": updated_at, "owner": owner, "duplicate_of": duplicate_of})

    def load_case(self, case_id: str) -> Case | None:
        row = self._cases.get(case_id)
        return self._case(row) if row is not None else None

    def load_cases(self, case_ids: Sequence[str]) -> list[Case]:
        return [self._case(c) for cid in case_ids if (c := self._cases.get(cid)) is not None]

    def events(self, case_id: str) -> Iterator[Event]:
        return iter([_event(row) for row in self._events.get(case_id, ())])

    def all_events(self) -> Iterator[Event]:
        for case_id in list(self._events):
            yield from map(_event, list(self._events[case_id]))

    def _all(self, process_id: str | None = None) -> Iterator[tuple[str, Case]]:
        """Every kept case (of `process_id`, if given), as a new `Case`: the queries below
        are scans."""
        for case_id, row in list(self._cases.items()):
            if process_id is None or process_id == (
                    row.process_id if isinstance(row, Case) else row[1]):
                yield case_id, self._case(row)

    def cases(self, query: CaseQuery) -> list[Case]:
        out = []
        for _, case in self._all(query.process_id or None):
            if query.process_id and case.process_id != query.process_id:
                continue
            if query.state and case.state != query.state:
                continue
            if query.overdue is not None and case.overdue != query.overdue:
                continue
            out.append(case)
            if query.limit and len(out) >= query.limit:
                break
        return out

    def due_cases(self, now: datetime, limit: int = 1000) -> list[str]:
        due = []
        for cid, row in self._cases.items():
            timers = [t for d in _deadlines(row) if (t := d.next_timer()) is not None]
            if timers and (t := min(timers)) <= now:
                due.append((t, cid))
        return [cid for _, cid in sorted(due)[:limit]]

    def find_open_duplicate(self, process_id: str, key: dict[str, object]) -> str | None:
        for cid, case in self._all(process_id):
            if case.process_id != process_id or self._final.get(cid):
                continue
            if all(case.data.get(k) == v for k, v in key.items()):
                return cid
        return None

    def find_finished_duplicate(self, process_id: str, key: dict[str, object],
                                since: datetime) -> str | None:
        found = [(c.updated_at, cid) for cid, c in self._all(process_id)
                 if c.process_id == process_id and self._final.get(cid)
                 and c.updated_at is not None and c.updated_at >= since
                 and all(c.data.get(k) == v for k, v in key.items())]
        return max(found)[1] if found else None

    def provisional_cases(self, process_id: str, years: Sequence[int], limit: int = 1000) -> list[str]:
        wanted = set(years)
        found = [cid for cid, case in self._all(process_id)
                 if case.process_id == process_id and not self._final.get(cid)
                 and provisional_from(case) in wanted]
        return sorted(found)[:limit]

    def due_outbox(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        rows = [r for r in self._outbox.values() if r.status == "pending"
                and (r.next_attempt_at or r.created_at) <= now]
        rows.sort(key=lambda r: (r.next_attempt_at or r.created_at, r.id))
        return [replace(r) for r in rows[:limit]]

    def record_delivery(self, row_id: str, *, at: datetime, ok: bool, error: str | None = None,
                        next_attempt_at: datetime | None = None, dead: bool = False) -> None:
        row = self._outbox[row_id]
        row.attempts += 1
        if ok:
            row.status, row.delivered_at, row.last_error = "delivered", at, None
        else:
            row.status = "dead" if dead else "pending"
            row.last_error, row.next_attempt_at = error, next_attempt_at

    def outbox(self, status: str | None = None, case_id: str | None = None) -> list[OutboxRow]:
        rows = [replace(r) for r in self._outbox.values()
                if (status is None or r.status == status)
                and (case_id is None or r.case_id == case_id)]
        return sorted(rows, key=lambda r: (r.created_at, r.id))

    def retry_outbox(self, row_id: str | None, now: datetime) -> int:
        rows = [r for r in self._outbox.values() if r.status == "dead"
                and (row_id is None or r.id == row_id)]
        for r in rows:
            r.status, r.attempts, r.next_attempt_at = "pending", 0, now
        return len(rows)
