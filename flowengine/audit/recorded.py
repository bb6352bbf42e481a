"""Claimed time against recorded time: which events were backdated.

An event carries the instant its caller claims (`at`, `--at`): that is what deadlines are
counted from, and replay depends on it. The SQL store also keeps, outside the hashed body,
the instant the database wrote the row (`recorded_at`, from the database's own clock; the
engine never reads a clock of its own). An event whose claimed instant lies more than a
tolerance before its recorded time was **backdated**: an acceptance entered on 2 December
but dated 2 September. Entering an event a little late is normal (a clerk types up the
morning's visits at noon), hence the tolerance (default one hour, `--backdate-tolerance`
or FLOWENGINE_BACKDATE_TOLERANCE). Rows written before schema revision 0004 have no
recorded time: unknown, never backdated. Timer events are never backdated either: their
instant is the due instant, whenever the tick that fires them runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..store.base import AuditReads
from ..store.codec import instant_from_db
from .timeline import TimelineEntry

DEFAULT_TOLERANCE = timedelta(hours=1)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


def parse_tolerance(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `2d` or plain seconds; ValueError otherwise."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(f"{text!r} is not a duration")
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2) or "s"])


def is_backdated(kind: str, at: datetime, recorded_at: datetime | None,
                 tolerance: timedelta) -> bool:
    """Whether the claimed instant lies more than `tolerance` before the recorded one. A
    `timer` event is never backdated: its instant is the due instant the definition
    gives, and a tick that runs late records it late by design."""
    return kind != "timer" and recorded_at is not None and recorded_at - at > tolerance


@dataclass(frozen=True)
class Backdated:
    """One backdated event: where, claimed when, written when."""

    case_id: str
    seq: int
    at: datetime
    recorded_at: datetime

    def __str__(self) -> str:
        return (f"case {self.case_id}: event {self.seq}: claimed {self.at.isoformat()}, "
                f"recorded {self.recorded_at.isoformat()}")

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "at": self.at.isoformat(),
                "recorded_at": self.recorded_at.isoformat()}


def recorded_times(store: Any, case_id: str) -> dict[int, datetime | None]:
    """The recorded time of each event of a case, by sequence number ({} on a store
    without `AuditReads`: the memory store records no time)."""
    if not isinstance(store, AuditReads):
        return {}
    return {seq: rec for seq, rec in _readable(store.recorded_times(case_id))}


def backdated_events(store: Any, tolerance: timedelta,
                     case_ids: Iterable[str] | None = None) -> Iterator[Backdated]:
    """Every backdated event of the store (or of `case_ids`), streamed in case order. The
    claimed instant is the `at` column, which repeats the hashed body's `at`."""
    if not isinstance(store, AuditReads):
        return
    wanted = set(case_ids) if case_ids is not None else None
    for case_id, seq, at, recorded in _readable(store.backdating_rows(), 2):
        if (wanted is None or case_id in wanted) and is_backdated("", at, recorded, tolerance):
            yield Backdated(case_id, seq, at, recorded)


def _readable(rows: Iterable[Any], first_instant: int = 1) -> Iterator[tuple[Any, ...]]:
    """Rows with their instants read; a row whose seq is not a number or whose instants
    are not instants is left out (a tampered value is `audit verify`'s business)."""
    for row in rows:
        values = tuple(row)
        if type(values[first_instant - 1]) is not int:  # the seq column
            continue
        try:
            instants = tuple(instant_from_db(v) for v in values[first_instant:])
        except (TypeError, ValueError, AttributeError):
            continue
        if all(v is None or v.tzinfo is not None for v in instants):
            yield values[:first_instant] + instants


def mark_timeline(entries: Iterable[TimelineEntry], times: dict[int, datetime | None],
                  tolerance: timedelta) -> list[TimelineEntry]:
    """The entries with their recorded time, and backdated ones marked."""
    out = []
    for e in entries:
        recorded = times.get(e.seq)
        out.append(replace(
            e, recorded_at=recorded.isoformat() if recorded is not None else None,
            backdated=is_backdated(e.what, datetime.fromisoformat(e.at), recorded, tolerance)))
    return out


__all__ = ["DEFAULT_TOLERANCE", "Backdated", "backdated_events", "is_backdated",
           "mark_timeline", "parse_tolerance", "recorded_times"]
