"""The outbox checked against the notifications the events carry.

Why: the outbox is what delivery reads. A deleted row is a notice that will never be
sent (a petitioner never told of a decision); a rewritten row sends it to someone else or
with other words; an added row sends a notice no event asked for. The events' notifications
are covered by the hash chain and re-decided (redecide.py), so each row must be exactly
one of them: its id `<note id>:<channel>`, its case, event number, creation instant and
payload those of the notification.

Which channels a notification went to: one it names itself gets exactly that row. One
that names none went to the default channels configured at the time, which the store does
not record; a row is required for every channel that the case's channel-less notifications
both before and after it were written to (so a setting changed between them is no
finding, while a row deleted in between is). The first and last such notification of a
case, and a store whose notifications all went nowhere, cannot be checked that way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..records.events import Event, canonical
from ..store.base import AuditReads, Store
from .rows import same_instant


@dataclass(frozen=True)
class OutboxEntry:
    """One stored outbox row as the audit reads it (raw values, nothing trusted)."""

    id: Any
    seq: Any
    channel: Any
    created_at: Any
    payload: Any  # the stored text on the SQL store, a dict elsewhere


def outbox_problem(notified: Sequence[Event], rows: Iterable[OutboxEntry]) -> tuple[int, str] | None:
    """The first outbox row (or missing row) that does not match `notified`, the case's
    events with notifications: (event number, why), or None."""
    notes = {str(n["id"]): (e, n) for e in notified for n in e.notifications}
    channels: dict[str, set[str]] = {note_id: set() for note_id in notes}
    for row in rows:
        note_id, _, channel = str(row.id).rpartition(":")
        found = notes.get(note_id)
        if found is None:
            return _seq(row.seq), f"outbox row {row.id!r} is no notification of the case's events"
        event, note = found
        why = _row_differs(row, event, note, channel)
        if why is not None:
            return event.seq, f"outbox row {row.id!r}: {why}"
        channels[note_id].add(channel)
    return _missing(notes, channels)


def _row_differs(row: OutboxEntry, event: Event, note: Mapping[str, Any],
                 channel: str) -> str | None:
    if row.channel != channel or (note.get("channel") and channel != note["channel"]):
        return f"its channel {row.channel!r} is not the notification's"
    if row.seq != event.seq or not same_instant(row.created_at, event.at):
        return "its event number or creation instant is not its event's"
    payload = row.payload if isinstance(row.payload, str) else canonical(row.payload)
    if payload != canonical(note):
        return f"its payload is not the notification the event carries ({_short(payload)})"
    return None


def _missing(notes: Mapping[str, tuple[Event, Mapping[str, Any]]],
             channels: Mapping[str, set[str]]) -> tuple[int, str] | None:
    free = [note_id for note_id, (_, n) in notes.items() if not n.get("channel")]
    for note_id, (event, note) in notes.items():
        if note.get("channel") and note["channel"] not in channels[note_id]:
            return event.seq, f"notification {note_id} has no outbox row for its channel " \
                              f"{note['channel']!r}: it will never be sent"
    for before, here, after in zip(free, free[1:], free[2:], strict=False):
        lost = (channels[before] & channels[after]) - channels[here]
        if lost:
            return notes[here][0].seq, (f"notification {here} has no outbox row for "
                                        f"{', '.join(sorted(lost))} (the notifications before "
                                        "and after it have): it will never be sent")
    return None


def _seq(value: Any) -> int:
    return value if type(value) is int else 0


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "…"


def load_outbox(store: Store, case_ids: list[str]) -> dict[str, list[OutboxEntry]]:
    """The outbox rows of `case_ids` by case: one read with `AuditReads`."""
    out: dict[str, list[OutboxEntry]] = {case_id: [] for case_id in case_ids}
    if not isinstance(store, AuditReads):
        for case_id in case_ids:
            out[case_id] = [OutboxEntry(r.id, r.seq, r.channel, r.created_at, r.payload)
                            for r in store.outbox(case_id=case_id)]
        return out
    for row in store.outbox_entries(case_ids):
        out.setdefault(str(row.case_id), []).append(
            OutboxEntry(row.id, row.seq, row.channel, row.created_at, row.payload))
    return out


__all__ = ["OutboxEntry", "load_outbox", "outbox_problem"]
