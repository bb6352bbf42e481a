"""Say in words what each event did: who, when, which trigger, which deadlines moved.

Auditors read a replay as a timeline ("who did what when, deadlines and whether they were
met"), so the wording lives in one place that replay, `case show` and export share. It reads
only the event itself; nothing here folds or checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..records.case import Case, Deadline
from ..records.events import Event

Effect = Mapping[str, Any]


@dataclass(frozen=True)
class TimelineEntry:
    """One event as an auditor reads it."""

    seq: int
    at: str
    actor: str
    role: str | None
    what: str  # "fired accept", "started", "timer"
    source: str | None
    dest: str | None
    data: dict[str, Any] = field(default_factory=dict)
    deadlines: tuple[str, ...] = ()
    notifications: tuple[str, ...] = ()
    recorded_at: str | None = None  # the database's time of writing (recorded.py)
    backdated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "role": self.role,
                "what": self.what, "source": self.source, "dest": self.dest,
                "data": self.data, "deadlines": list(self.deadlines),
                "notifications": list(self.notifications), "recorded_at": self.recorded_at,
                "backdated": self.backdated}

    def line(self) -> str:
        """One plain text line (and a few indented ones) for the terminal."""
        who = f"{self.actor} ({self.role})" if self.role else self.actor
        move = ""
        if self.dest is not None:
            move = f" {self.source} -> {self.dest}" if self.source else f" -> {self.dest}"
        parts = [f"#{self.seq} {self.at} {who}: {self.what}{move}"]
        if self.backdated:
            parts[0] += f"  [BACKDATED: recorded {self.recorded_at}]"
        if self.data:
            shown = ", ".join(f"{k}={_short(v)}" for k, v in sorted(self.data.items()))
            parts.append(f"    data: {shown}")
        parts += [f"    deadline {d}" for d in self.deadlines]
        if self.notifications:
            parts.append(f"    notified: {', '.join(self.notifications)}")
        return "\n".join(parts)


def _short(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def entry(event: Event) -> TimelineEntry:
    """The timeline entry of one event."""
    what = {"started": "started the case", "timer": "timer",
            "calendar": "recounted with official holiday data"}.get(event.type, event.type)
    if event.type == "fired":
        what = f"fired {event.trigger}"
    return TimelineEntry(
        seq=event.seq, at=event.at.isoformat(), actor=event.actor.name, role=event.actor.role,
        what=what, source=event.source, dest=event.dest, data=dict(event.recorded_data),
        deadlines=tuple(describe_effect(e) for e in event.effects),
        notifications=tuple(str(n.get("kind")) for n in event.notifications),
    )


def _due(e: Effect) -> str:
    due = str(e.get("due_date") or e.get("due") or "?")
    years = e.get("provisional")
    return f"{due} (provisional: {', '.join(map(str, years))} calendar)" if years else due


def _unit(e: Effect) -> str:
    return str(e.get("unit") or "days").replace("_", " ")


def _started(e: Effect) -> str:
    unit = str(e.get("unit", "")).replace("_", " ")
    length = "a date set in the data" if unit == "field" else f"{e.get('amount')} {unit}"
    return f"started: due {_due(e)} ({length})"


def _stopped(e: Effect) -> str:
    return "met late" if e.get("late") else "met on time"


_WORDS: dict[str, Callable[[Effect], str]] = {
    "started": _started,
    "met": _stopped,
    "cancelled": lambda e: "cancelled (the case ended)",
    "superseded": lambda e: "superseded (taken over by a higher level)"
    + (" after it had passed" if e.get("late") else ""),
    "extended": lambda e: f"extended by {e.get('days')} {_unit(e)} to {_due(e)}"
    + (f" (reason: {e['reason']})" if e.get("reason") else ""),
    "recomputed": lambda e: f"recomputed: due {_due(e)} (was {e.get('old_due_date')}; {e.get('why')})",
    "paused": lambda e: f"paused on {e.get('on')}",
    "resumed": lambda e: f"resumed: due {_due(e)}",
    "warned": lambda e: "warning: due soon",
    "overdue": lambda e: "overdue (still open past its due date)",
    "expired": lambda e: f"expired; fires {e.get('fire')}" if e.get("fire") else "expired",
}


def describe_effect(e: Effect) -> str:
    """`handling: started: due 2026-05-06 (60 days)` and the like."""
    words = _WORDS.get(str(e.get("op")))
    text = words(e) if words is not None else str(e.get("op"))
    return f"{e.get('deadline')}: {text}"


def deadline_outcome(d: Deadline) -> str:
    """Whether a deadline was met, in words (for the summary under a timeline)."""
    due = d.due_date.isoformat() if d.due_date else (d.due.isoformat() if d.due else "paused")
    if d.provisional and d.active:
        due += f", provisional: {', '.join(map(str, d.provisional))} calendar"
    if d.status == "met":
        return f"{d.name}: met {'late' if d.late else 'on time'} (due {due})"
    if d.status in ("open", "paused"):
        return f"{d.name}: {d.status}, due {due}"
    return f"{d.name}: {d.status} (due {due})"


def deadlines_summary(case: Case) -> list[str]:
    return [deadline_outcome(d) for d in sorted(case.deadlines.values(), key=lambda d: d.name)]


__all__ = ["TimelineEntry", "entry", "describe_effect", "deadline_outcome", "deadlines_summary"]
