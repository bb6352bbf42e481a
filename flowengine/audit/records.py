"""A stored case record as the audit reads it: every column's type checked, so a tampered
row ends as a named broken case (`BadRecord`), never as a traceback.

Why a check of its own: the store decodes its rows trusting that it wrote them (a fire
must not pay for doubt). An auditor's database may hold anything: non-JSON data, a text
`seq`, a timestamp that is not one, a deadline without its start. `record_from_row` turns
the raw column values of a `cases` row into the `Case` the store would load, or into a
`BadRecord` saying which column is wrong and how.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..records.case import Case, Deadline
from ..records.values import to_json
from ..store.codec import case_from_values, instant_from_db, load_data, load_deadlines


@dataclass(frozen=True)
class BadRecord:
    """A case record whose stored values cannot be what the engine wrote."""

    case_id: str
    why: str


Record = Case | BadRecord

TEXT = ("id", "process_id", "digest", "state", "last_hash")
OPTIONAL_TEXT = ("duplicate_of", "dup_key", "owner", "owner_role")
FLAGS = ("overdue", "late", "final")
INSTANTS = ("created_at", "updated_at", "next_timer_at", "claimed_until")
# Deadline fields by the type they must have (None allowed for the optional ones).
DEADLINE_TYPES: dict[str, tuple[type, bool]] = {
    "name": (str, False), "status": (str, False), "unit": (str, False),
    "started_at": (datetime, False), "due": (datetime, True), "warn_at": (datetime, True),
    "stopped_at": (datetime, True), "start_date": (date, True), "due_date": (date, True),
    "paused_on": (date, True), "amount": (int, False), "round": (int, False),
    "extended": (int, False), "extensions": (int, False), "warned": (bool, False),
    "late": (bool, False), "marked": (bool, False), "pauses": (list, False),
}


def record_from_row(values: Mapping[str, Any]) -> Record:
    """The case a `cases` row holds (raw column values by name), or why it cannot be."""
    case_id = str(values.get("id"))
    try:
        _check_columns(values)
        case = case_from_values(values, instant_from_db)
        for deadline in case.deadlines.values():
            _check_deadline(deadline)
        to_json(case.data)  # what the comparison and every report will do with it
    except Exception as exc:  # noqa: BLE001 - a tampered row can be broken in any way
        return BadRecord(case_id, f"the stored case record cannot be read: {_why(values, exc)}")
    return case


def _check_columns(values: Mapping[str, Any]) -> None:
    for name in TEXT:
        _require(name, values[name], lambda v: isinstance(v, str) and v != "", "text")
    for name in OPTIONAL_TEXT:
        _require(name, values[name], lambda v: v is None or isinstance(v, str), "text or NULL")
    _require("seq", values["seq"], lambda v: type(v) is int and v >= 1, "an event number")
    for name in FLAGS:
        _require(name, values[name], lambda v: type(v) in (int, bool) and v in (0, 1),
                 "a boolean")
    for name in INSTANTS:
        _require(name, values[name], _is_instant, "an instant with a time zone, or NULL")


def _require(column: str, value: Any, ok: Callable[[Any], bool], what: str) -> None:
    if not ok(value):
        raise ValueError(f"column {column}: {value!r} is not {what}")


def _is_instant(value: Any) -> bool:
    if value is None:
        return True
    try:
        found = instant_from_db(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return found is not None and found.tzinfo is not None


def _check_deadline(deadline: Deadline) -> None:
    for name, (kind, optional) in DEADLINE_TYPES.items():
        value = getattr(deadline, name)
        if not (isinstance(value, kind) or (optional and value is None)) or (
                kind is int and isinstance(value, bool)):
            raise ValueError(f"column deadlines: deadline {deadline.name!r}: {name} "
                             f"{value!r} is not a {kind.__name__}")
    for name in ("started_at", "due", "warn_at", "stopped_at"):
        value = getattr(deadline, name)
        if value is not None and value.tzinfo is None:
            raise ValueError(f"column deadlines: deadline {deadline.name!r}: {name} "
                             f"{value.isoformat()} has no time zone")


def _why(values: Mapping[str, Any], exc: Exception) -> str:
    """Which JSON column failed to decode, if one did (only looked for on failure)."""
    text = str(exc) if isinstance(exc, ValueError) and str(exc).startswith("column ") else ""
    if text:
        return text
    for column, decode in (("data", load_data), ("deadlines", load_deadlines)):
        try:
            decode(values[column])
        except Exception as inner:  # noqa: BLE001 - a tampered value, reported below
            return f"column {column}: {type(inner).__name__}: {inner}"
    return f"{type(exc).__name__}: {exc}"


__all__ = ["BadRecord", "Record", "record_from_row"]
