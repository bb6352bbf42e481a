"""`apply(case, event)`: the one place a case changes. The engine and replay both use it.

The engine decides what happens (`planner`), writes it down as an event, and folds the
event into the case here; replay folds the stored events with the same function, so a
replayed case equals the live one by construction. Nothing here reads a clock or a calendar:
every computed value (due dates, new state) is already in the event.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..definition.limits import INT_MAX, INT_MIN
from ..definition.model import FieldDef, ProcessDef
from ..records.case import Actor, Case, Deadline
from ..records.events import Draft, Event
from ..records.lifecycle import Op, StopOp
from .data import SIGNATURES, SIGNATURES_FIELD, coerce


def new_case(process: ProcessDef, event: Event) -> Case:
    """The empty case a `started` event is folded into."""
    return Case(id=event.case_id, process_id=process.id, digest=event.digest,
                state=process.initial_state, data={})


def apply(process: ProcessDef, case: Case, event: Event | Draft) -> Case:
    """Fold `event` (or the planner's draft of it) into `case` (changed in place and
    returned)."""
    if event.type == "started":
        case.created_at = event.at
        case.owner = event.actor
        case.duplicate_of = event.duplicate_of
    if event.dest is not None:
        case.state = event.dest
    if event.data:
        _apply_data(process, case, event.data)
    for effect in event.effects:
        _EFFECTS[effect["op"]](case, effect, event.at)
    case.seq = event.seq
    case.last_hash = event.hash
    case.updated_at = event.at
    return case


def _apply_data(process: ProcessDef, case: Case, changes: Mapping[str, Any]) -> None:
    data, fields = case.data, process.fields
    plain = _plain(fields)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
            continue
        kind = type(value)
        if kind is str:  # most values: kept as they are where `coerce` would return them
            limit = plain.texts.get(name)
            if limit is not None and len(value) <= limit and not value.isspace():
                data[name] = value
                continue
            allowed = plain.enums.get(name)
            if allowed is not None and value in allowed:
                data[name] = value
                continue
        elif kind is bool:
            if name in plain.flags:
                data[name] = value
                continue
        elif kind is int:
            span = plain.ints.get(name)
            if span is not None and span[0] <= value <= span[1]:
                data[name] = value
                continue
        f = fields.get(name) or (SIGNATURES_FIELD if name == SIGNATURES else None)
        data[name] = coerce(f, value) if f is not None else value


@dataclass(frozen=True)
class _Plain:
    """Per field, the values `coerce` returns unchanged after its checks pass: text within
    its length limit and not only blanks (`_text`), an enum member (`_enum`), a bool
    (`_boolean`), an int within the 64-bit range and the field's bounds (`_integer`,
    `_bounds`). The fold keeps such a value without the call chain; any other value goes
    through `coerce`, which converts it or raises the same error as before."""

    texts: dict[str, int]
    enums: dict[str, frozenset[str]]
    flags: frozenset[str]
    ints: dict[str, tuple[Any, Any]]


_plain_cache: dict[int, tuple[Mapping[str, FieldDef], _Plain]] = {}


def _plain(fields: Mapping[str, FieldDef]) -> _Plain:
    """`_Plain` of a definition's fields, cached by the mapping's identity (the mapping is
    held, so its id cannot be reused by another)."""
    found = _plain_cache.get(id(fields))
    if found is not None and found[0] is fields:
        return found[1]
    plain = _Plain(
        texts={n: f.max_length if f.max_length is not None else sys.maxsize
               for n, f in fields.items() if f.type in ("string", "text")},
        enums={n: frozenset(f.values) for n, f in fields.items() if f.type == "enum"},
        flags=frozenset(n for n, f in fields.items() if f.type == "boolean"),
        ints={n: (INT_MIN if f.minimum is None else max(INT_MIN, f.minimum),
                  INT_MAX if f.maximum is None else min(INT_MAX, f.maximum))
              for n, f in fields.items() if f.type == "integer"})
    if len(_plain_cache) >= 256:  # definitions loaded over a long life: keep it bounded
        _plain_cache.clear()
    _plain_cache[id(fields)] = (fields, plain)
    return plain


def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _set_due(d: Deadline, e: Mapping[str, Any]) -> None:
    d.due = _instant(e.get("due"))
    d.due_date = _date(e.get("due_date"))
    d.warn_at = _instant(e.get("warn_at"))
    d.provisional = tuple(e.get("provisional", ()))


def _started(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    old = case.deadlines.get(e["deadline"])
    d = Deadline(name=e["deadline"], status="open", started_at=at,
                 start_date=_date(e.get("start_date")), due=None, due_date=None,
                 unit=e["unit"], amount=int(e["amount"]), round=(old.round + 1) if old else 1)
    _set_due(d, e)
    case.deadlines[d.name] = d


def _stopped(status: StopOp) -> Callable[[Case, Mapping[str, Any], datetime], None]:
    def fold(case: Case, e: Mapping[str, Any], at: datetime) -> None:
        d = case.deadlines[e["deadline"]]
        d.status = status
        d.stopped_at = at
        d.late = bool(e.get("late", False))

    return fold


def _extended(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    d = case.deadlines[e["deadline"]]
    d.extended += int(e["days"])
    d.extensions += 1
    d.granted.append(int(e["days"]))
    _set_due(d, e)
    d.status = e.get("status", d.status)
    d.late = d.late or bool(e.get("late", False))
    if e.get("rewarn"):
        d.warned = False


def _paused(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    d = case.deadlines[e["deadline"]]
    d.status = "paused"
    d.paused_on = _date(e["on"])
    d.due = None
    d.warn_at = None


def _resumed(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    d = case.deadlines[e["deadline"]]
    start, end = _date(e["pause"][0]), _date(e["pause"][1])
    assert start is not None and end is not None
    d.pauses.append((start, end))
    d.paused_on = None
    d.status = e.get("status", "open")
    _set_due(d, e)


def _recomputed(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    d = case.deadlines[e["deadline"]]
    _set_due(d, e)
    d.status = e.get("status", d.status)
    if e.get("rewarn"):
        d.warned = False


def _warned(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    case.deadlines[e["deadline"]].warned = True


def _overdue(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    d = case.deadlines[e["deadline"]]
    d.status = "overdue"
    d.marked = bool(e.get("mark", True))


def _expired(case: Case, e: Mapping[str, Any], at: datetime) -> None:
    d = case.deadlines[e["deadline"]]
    d.status = "expired"
    d.stopped_at = at


# how each effect of `lifecycle.LIFECYCLE` changes the case
_EFFECTS: dict[Op, Callable[[Case, Mapping[str, Any], datetime], None]] = {
    "started": _started,
    "met": _stopped("met"),
    "cancelled": _stopped("cancelled"),
    "superseded": _stopped("superseded"),
    "extended": _extended,
    "paused": _paused,
    "resumed": _resumed,
    "recomputed": _recomputed,
    "warned": _warned,
    "overdue": _overdue,
    "expired": _expired,
}

__all__ = ["apply", "new_case", "Actor"]
