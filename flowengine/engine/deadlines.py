"""Deadline lifecycle decisions: which deadlines a step starts, stops, pauses, resumes or
extends, and what the timers do when their instant comes. Returns effect dicts for the event;
`fold` applies them. All date arithmetic goes through the calendar's period rules
(`flowengine.calendar.periods`), so the calendar can change without touching the engine.

Rules (documented in docs/deadlines.md):
- a step first stops the deadlines it stops (met; late when after the due instant), then
  starts those it starts; a deadline already running is not restarted by its start anchor,
  a finished one starts a new round;
- entering a `pause_in` state pauses; leaving it for a state outside `pause_in` resumes,
  with the paused local dates A <= d < B no longer counted;
- entering a final state cancels every deadline still running;
- an extension adds to the period before the roll-forward and never shortens it;
- at the due instant an open deadline becomes `overdue` (mark) or, when `on_overdue.fire`
  names a trigger, `expired` and the trigger fires by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from ..calendar.periods import Unit, due_date, end_of_day, local_date
from ..definition.model import DeadlineDef, Duration
from ..errors import Rejection
from .case import Case, Deadline
from .compiler import CompiledProcess

Effect = dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What happened in one start or fire, as the deadline rules see it."""

    at: datetime
    started: bool = False
    trigger: str | None = None
    source: str | None = None
    dest: str | None = None

    @property
    def entered(self) -> str | None:
        if self.dest is None or (self.dest == self.source and not self.started):
            return None
        return self.dest

    @property
    def left(self) -> str | None:
        return self.source if self.entered is not None and not self.started else None


def _matches(anchor: Any, step: Step) -> bool:
    return bool(
        (anchor.started and step.started)
        or (step.trigger is not None and step.trigger in anchor.triggers)
        or (step.entered is not None and step.entered in anchor.enter)
        or (step.left is not None and step.left in anchor.leave)
    )


def step_effects(cp: CompiledProcess, case: Case, step: Step, env: Any) -> list[Effect]:
    """Deadline effects of a start or fire whose data is already merged into `env`."""
    effects: list[Effect] = []
    final = step.entered in cp.final_states
    for d in cp.process.deadlines.values():
        running = case.deadlines.get(d.name)
        active = running is not None and running.active
        if active and _matches(d.stop, step):
            effects.append(_stop("met", running, step.at))  # type: ignore[arg-type]
            active = False
        elif active and final:
            effects.append(_stop("cancelled", running, step.at))  # type: ignore[arg-type]
            active = False
        elif active and running is not None:
            effects += _pause_or_resume(cp, d, running, step)
        if not active and not final and _matches(d.start, step):
            started = _start(cp, d, step, env)
            if started is not None:
                effects.append(started)
    return effects


def _stop(op: str, d: Deadline, at: datetime) -> Effect:
    late = (d.due is not None and at >= d.due) or d.status == "overdue" or d.late
    return {"deadline": d.name, "op": op, "late": late}


def _start(cp: CompiledProcess, d: DeadlineDef, step: Step, env: Any) -> Effect | None:
    if d.unless and cp.expr(d.unless).evaluate(env):
        return None
    field_due = _field_due(cp, d, env)
    if field_due is not None:
        start, unit, amount = local_date(step.at, cp.tz), "field", 0
    elif d.length is None:
        return None  # due only from a field that is empty: nothing to count (FE213 warns)
    else:
        start, unit, amount = local_date(step.at, cp.tz), d.length.unit, d.length.amount
    effect: Effect = {"deadline": d.name, "op": "started", "unit": unit, "amount": amount,
                      "start_date": start}
    if unit in ("minutes", "hours"):
        effect["start_date"] = None
        due = step.at + timedelta(**{unit: amount})
        effect.update(due=due, due_date=local_date(due, cp.tz), warn_at=_warn_at(cp, d, due, None))
    else:
        last = field_due if field_due is not None else due_date(
            cp.calendar, start, amount, cast(Unit, unit), roll_forward=d.roll_forward)
        effect.update(_due_fields(cp, d, last))
    return effect


def _field_due(cp: CompiledProcess, d: DeadlineDef, env: Any) -> date | None:
    if d.due_field is None:
        return None
    if d.due_field.when and not cp.expr(d.due_field.when).evaluate(env):
        return None
    value = env.data.get(d.due_field.field)
    if isinstance(value, datetime):
        return local_date(value, cp.tz)
    return value if isinstance(value, date) else None


def _due_fields(cp: CompiledProcess, d: DeadlineDef, last: date) -> Effect:
    due = end_of_day(last, cp.tz)
    return {"due": due, "due_date": last, "warn_at": _warn_at(cp, d, due, last)}


def _warn_at(cp: CompiledProcess, d: DeadlineDef, due: datetime, last: date | None) -> datetime | None:
    """When to warn: `warn` before the due instant (working days counted back from the last day)."""
    w = d.warn
    if w is None:
        return None
    if w.unit in ("minutes", "hours", "days") or last is None:
        delta = timedelta(days=w.amount) if w.unit == "days" else timedelta(**{w.unit: w.amount})
        return due - delta
    day, left = last, w.amount
    while left > 0:
        day -= timedelta(days=1)
        if cp.calendar.is_workday(day):
            left -= 1
    return end_of_day(day, cp.tz)


def recompute(cp: CompiledProcess, d: DeadlineDef, running: Deadline, extra: int,
              pauses: list[tuple[date, date]]) -> Effect:
    """Due fields after an extension or a pause, from the deadline's own start."""
    amount = running.amount + running.extended + extra
    if running.unit in ("minutes", "hours"):
        shift = sum(((b - a).days for a, b in pauses), 0)
        due = running.started_at + timedelta(**{running.unit: amount}) + timedelta(days=shift)
        return {"due": due, "due_date": local_date(due, cp.tz), "warn_at": _warn_at(cp, d, due, None)}
    if running.unit == "field":
        assert running.due_date is not None
        last = running.due_date + timedelta(days=extra)
        return _due_fields(cp, d, last)
    assert running.start_date is not None
    last = due_date(cp.calendar, running.start_date, amount, running.unit,  # type: ignore[arg-type]
                    roll_forward=d.roll_forward, pauses=pauses)
    return _due_fields(cp, d, last)


def _pause_or_resume(cp: CompiledProcess, d: DeadlineDef, running: Deadline, step: Step) -> list[Effect]:
    entered = step.entered
    if entered is None or not d.pause_in:
        return []
    today = local_date(step.at, cp.tz)
    if running.status != "paused" and entered in d.pause_in:
        return [{"deadline": d.name, "op": "paused", "on": today}]
    if running.status == "paused" and entered not in d.pause_in:
        assert running.paused_on is not None
        pause = (running.paused_on, today)
        effect: Effect = {"deadline": d.name, "op": "resumed", "pause": [pause[0], pause[1]]}
        effect.update(recompute(cp, d, running, 0, [*running.pauses, pause]))
        effect["status"] = "overdue" if effect["due"] <= step.at else "open"
        return [effect]
    return []


def extension_effects(cp: CompiledProcess, case: Case, trigger: str, data: Mapping[str, Any],
                      at: datetime) -> tuple[list[Effect], list[Rejection]]:
    """Effects of an extension trigger, or the reasons it cannot extend (nothing changes)."""
    effects: list[Effect] = []
    reasons: list[Rejection] = []
    for d in cp.extensions.get(trigger, ()):
        ext = d.extension
        assert ext is not None
        running = case.deadlines.get(d.name)
        if running is None or running.status not in ("open", "overdue"):
            reasons.append(Rejection("extension", f"there is no running '{d.name}' deadline "
                                     f"to extend"))
            continue
        if ext.reason_field and not data.get(ext.reason_field):
            reasons.append(Rejection("extension", f"an extension needs '{ext.reason_field}' "
                                     f"(the reason is told to the petitioner)"))
        days, why = _extension_days(ext.max_total, ext.days_field, running, data)
        if why:
            reasons.append(Rejection("extension", why))
        if ext.max_count is not None and running.extensions >= ext.max_count:
            reasons.append(Rejection("extension", f"'{d.name}' was already extended "
                                     f"{running.extensions} time(s), the most allowed"))
        if reasons:
            continue
        effect: Effect = {"deadline": d.name, "op": "extended", "days": days,
                          "reason": data.get(ext.reason_field) if ext.reason_field else None}
        effect.update(recompute(cp, d, running, days, list(running.pauses)))
        # An overdue deadline extended past `at` runs again (and stays counted as late).
        effect["status"] = "open" if effect["due"] > at else running.status
        effect["late"] = running.late or running.status == "overdue"
        effect["rewarn"] = effect["warn_at"] is not None and effect["warn_at"] > at
        effects.append(effect)
    return effects, reasons


def _extension_days(limit: Duration | None, days_field: str, running: Deadline,
                    data: Mapping[str, Any]) -> tuple[int, str]:
    left = None if limit is None else limit.amount - running.extended
    asked = data.get(days_field)
    if asked is None:
        if left is None:
            return 0, f"say how long to extend ('{days_field}')"
        if left <= 0:
            return 0, f"the extensions already total {running.extended}, the most allowed"
        return left, ""
    days = int(asked)
    if days <= 0:
        return 0, f"'{days_field}' must be at least 1"
    if left is not None and days > left:
        return 0, (f"an extension of {days} would exceed the {limit} allowed in total "
                   f"({running.extended} already used; at most {left} more)")
    return days, ""


def timer_effect(cp: CompiledProcess, d: Deadline, at: datetime) -> Effect:
    """What a deadline's timer does at `at` (its warn instant or its due instant)."""
    if d.warn_at is not None and not d.warned and at == d.warn_at and (d.due is None or at < d.due):
        return {"deadline": d.name, "op": "warned"}
    spec = cp.process.deadlines[d.name]
    over = spec.on_overdue
    if over is not None and over.fire:
        return {"deadline": d.name, "op": "expired", "fire": over.fire}
    if over is None or over.mark:
        return {"deadline": d.name, "op": "overdue"}
    return {"deadline": d.name, "op": "overdue", "mark": False}
