"""Runtime records: `Actor`, `Deadline`, `Case`. Plain data, no SQL, no clock.

A `Case` is the projection of its events (see `fold.apply`); the engine never edits one in
place outside the fold, so replaying the events always rebuilds the same case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from .built import built
from .lifecycle import DeadlineStatus
from .values import to_json

ACTIVE = ("open", "overdue", "paused")  # deadline statuses that still run or wait


@dataclass(frozen=True)
class Actor:
    """Who fires a trigger: a person's name and the role they act in."""

    name: str
    role: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role}


SYSTEM = Actor("system", "system")  # timers and automatic triggers


@dataclass
class Deadline:
    """One run of a deadline of a case (a deadline that starts again gets a new round)."""

    name: str
    status: DeadlineStatus
    started_at: datetime
    start_date: date | None  # local date the period counts from (None for hour periods)
    due: datetime | None  # the instant it falls due (None while paused)
    due_date: date | None  # local date of the last day
    unit: str  # days | working_days | minutes | hours | field
    amount: int
    round: int = 1
    extended: int = 0  # total extension, in `unit`
    extensions: int = 0
    granted: list[int] = field(default_factory=list)  # each extension, in `unit`, in order
    provisional: tuple[int, ...] = ()  # years of a provisional calendar the due date used
    pauses: list[tuple[date, date]] = field(default_factory=list)
    paused_on: date | None = None
    warn_at: datetime | None = None
    warned: bool = False
    late: bool = False  # met after it fell due
    marked: bool = True  # an overdue deadline marks the case overdue (on_overdue.mark)
    stopped_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def next_timer(self) -> datetime | None:
        """The next instant a timer must look at this deadline, if any."""
        if self.status != "open" or self.due is None:
            return None
        if self.warn_at is not None and not self.warned and self.warn_at < self.due:
            return self.warn_at
        return self.due

    def copy(self) -> Deadline:
        values = self.__dict__.copy()
        values["pauses"] = list(self.pauses)
        values["granted"] = list(self.granted)
        return built(Deadline, values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "status": self.status, "round": self.round,
            "started_at": self.started_at.isoformat(),
            "due": self.due.isoformat() if self.due else None,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "unit": self.unit, "amount": self.amount, "extended": self.extended,
            "extensions": self.extensions, "late": self.late,
            "provisional": list(self.provisional),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "paused_on": self.paused_on.isoformat() if self.paused_on else None,
        }


@dataclass
class Case:
    """A running instance of a process, pinned to the definition version (`digest`)."""

    id: str
    process_id: str
    digest: str
    state: str
    data: dict[str, Any]
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    seq: int = 0
    last_hash: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    owner: Actor | None = None  # the first receiver (首问负责): whoever started the case
    duplicate_of: str | None = None

    @property
    def overdue(self) -> bool:
        """Some deadline has passed and is still open (督办 applies)."""
        return any(d.status == "overdue" and d.marked for d in self.deadlines.values())

    @property
    def late(self) -> bool:
        """Some deadline was missed, whether or not the case has caught up since."""
        return any(d.late or d.status in ("overdue", "expired") for d in self.deadlines.values())

    def next_timer(self) -> datetime | None:
        """The earliest `next_timer` of its deadlines (the first of equal ones), if any."""
        first = None
        for d in self.deadlines.values():  # a loop: a tick asks twice for every due case
            t = d.next_timer()
            if t is not None and (first is None or t < first):
                first = t
        return first

    def copy(self) -> Case:
        """A copy safe to change: data, deadlines and pause lists are not shared.

        Written out by hand (`built.built` over a copy of the fields): `dataclasses.replace`
        is several times slower, setting the copied fields one by one on a shallow copy
        nearly twice, and this runs twice on every fire (bench/bench_inmem.py)."""
        values = self.__dict__.copy()
        values["data"] = dict(self.data)
        values["deadlines"] = ({k: d.copy() for k, d in self.deadlines.items()}
                               if self.deadlines else {})
        return built(Case, values)

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """The case as JSON-ready values: data in its JSON form (decimals as strings,
        dates ISO 8601), deadlines by name, instants ISO 8601 (converted to `tz` if given)."""
        def iso(value: datetime | None) -> str | None:
            if value is None:
                return None
            return (value.astimezone(tz) if tz is not None else value).isoformat()

        return {
            "id": self.id, "process": self.process_id, "digest": self.digest,
            "state": self.state, "seq": self.seq, "last_hash": self.last_hash,
            "overdue": self.overdue, "data": to_json(self.data),
            "deadlines": [d.as_dict() for d in sorted(self.deadlines.values(),
                                                       key=lambda d: d.name)],
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
            "owner": self.owner.as_dict() if self.owner else None,
            "duplicate_of": self.duplicate_of,
        }

    def to_json(self, tz: tzinfo | None = None) -> str:
        """`to_dict` as a JSON text (UTF-8 characters kept as they are)."""
        return json.dumps(self.to_dict(tz), ensure_ascii=False)
