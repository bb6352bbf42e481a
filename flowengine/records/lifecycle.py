"""The engine's vocabulary, typed: event types, deadline statuses, outbox statuses, verify
kinds, and the deadline effects an event records, with the one table that ties each effect
to the notification it asks for and the plugin hook it calls.

Why one table: a deadline's lifecycle has three names per step (the effect `warned` in the
event, the notification kind `warning`, the hook `flowengine_deadline_warning`). Adding an
effect means adding its TypedDict here, one row to `LIFECYCLE`, its fold in `fold.py` and
its decision in `deadlines.py`; nothing else keeps a list of them.

Effects stay plain dicts at run time (each a TypedDict here): their JSON form is part of the
hashed event body, so what a history stored keeps hashing the same. Imports nothing from
the engine, so every layer may use it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, NamedTuple, NotRequired, TypedDict

EventType = Literal["started", "fired", "timer", "calendar"]
EVENT_TYPES: tuple[EventType, ...] = ("started", "fired", "timer", "calendar")

DeadlineStatus = Literal["open", "paused", "met", "cancelled", "superseded", "overdue",
                         "expired"]
OutboxStatus = Literal["pending", "delivered", "dead"]
VerifyKind = Literal["chain", "projection", "outbox", "missing"]

Op = Literal["started", "met", "cancelled", "superseded", "extended", "paused", "resumed",
             "recomputed", "warned", "overdue", "expired"]
StopOp = Literal["met", "cancelled", "superseded"]
NotificationKind = Literal["started", "warning", "overdue", "expired", "extension", "paused",
                           "resumed", "recomputed"]


class DueFields(TypedDict):
    """When a counted deadline ends: the instant, the last local day, the warning instant;
    `provisional`: the years counted on a provisional calendar (absent when none)."""

    due: datetime
    due_date: date
    warn_at: datetime | None
    provisional: NotRequired[list[int]]


class StartedEffect(DueFields):
    deadline: str
    op: Literal["started"]
    unit: str  # a Duration unit, or "field" (due from a date field)
    amount: int
    start_date: date | None


class StoppedEffect(TypedDict):
    deadline: str
    op: StopOp
    late: bool


class ExtendedEffect(DueFields):
    deadline: str
    op: Literal["extended"]
    days: int
    unit: str
    reason: str | None
    from_due: date | None
    status: DeadlineStatus
    late: bool
    rewarn: bool


class PausedEffect(TypedDict):
    deadline: str
    op: Literal["paused"]
    on: date


class ResumedEffect(DueFields):
    deadline: str
    op: Literal["resumed"]
    pause: list[date]  # [first paused day, first day counted again]
    status: DeadlineStatus


class RecomputedEffect(DueFields):
    deadline: str
    op: Literal["recomputed"]
    old_due_date: date | None
    status: DeadlineStatus
    rewarn: bool
    why: str


class WarnedEffect(TypedDict):
    deadline: str
    op: Literal["warned"]


class OverdueEffect(TypedDict):
    deadline: str
    op: Literal["overdue"]
    mark: NotRequired[bool]  # absent: marked (the default); False: overdue, not marked


class ExpiredEffect(TypedDict):
    deadline: str
    op: Literal["expired"]
    fire: str


Effect = (StartedEffect | StoppedEffect | ExtendedEffect | PausedEffect | ResumedEffect
          | RecomputedEffect | WarnedEffect | OverdueEffect | ExpiredEffect)
TimerEffect = WarnedEffect | OverdueEffect | ExpiredEffect


class Lifecycle(NamedTuple):
    """What an effect asks for besides its fold: the kind of notification it records
    (None: none) and the plugin hook told of it (None: none)."""

    notification: NotificationKind | None
    hook: str | None


LIFECYCLE: dict[Op, Lifecycle] = {
    "started": Lifecycle("started", None),  # a notice only when a declaration asks for it
    "met": Lifecycle(None, None),
    "cancelled": Lifecycle(None, None),
    "superseded": Lifecycle(None, None),
    "extended": Lifecycle("extension", "flowengine_deadline_extended"),
    "paused": Lifecycle("paused", "flowengine_deadline_paused"),
    "resumed": Lifecycle("resumed", "flowengine_deadline_resumed"),
    "recomputed": Lifecycle("recomputed", "flowengine_deadline_recomputed"),
    "warned": Lifecycle("warning", "flowengine_deadline_warning"),
    "overdue": Lifecycle("overdue", "flowengine_deadline_overdue"),
    "expired": Lifecycle("expired", "flowengine_deadline_expired"),
}

# derived views of LIFECYCLE, for the lookups on the hot path
NOTIFICATION_OF: dict[str, NotificationKind] = {
    op: row.notification for op, row in LIFECYCLE.items() if row.notification is not None}
HOOK_OF: dict[str, str] = {op: row.hook for op, row in LIFECYCLE.items() if row.hook is not None}

__all__ = [
    "DeadlineStatus", "DueFields", "Effect", "EventType", "EVENT_TYPES", "ExpiredEffect",
    "ExtendedEffect", "HOOK_OF", "LIFECYCLE", "Lifecycle", "NOTIFICATION_OF",
    "NotificationKind", "Op", "OutboxStatus", "OverdueEffect", "PausedEffect",
    "RecomputedEffect", "ResumedEffect", "StartedEffect", "StopOp", "StoppedEffect",
    "TimerEffect", "VerifyKind", "WarnedEffect",
]
