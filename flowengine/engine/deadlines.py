"""Deadline lifecycle decisions: which deadlines a step starts, stops, pauses, resumes or
extends, and what the timers do when their instant comes. Returns the effects for the event
(typed in `lifecycle`); `fold` applies them. All date arithmetic goes through the calendar's period rules
(`flowengine.calendar.periods`), so the calendar can change without touching the engine.

Rules (documented in docs/deadlines.md):
- a step first stops the deadlines it stops (met; late when after the due instant), then
  starts those it starts; a deadline already running is not restarted by its start anchor,
  a finished one starts a new round;
- entering a `pause_in` state pauses; leaving it for a state outside `pause_in` resumes,
  with the paused local dates A <= d < B no longer counted;
- a `supersede` anchor ends a running deadline as `superseded` (another body took the
  matter over: neither met nor overdue; `late` kept when it had already passed);
- entering a final state cancels every deadline still running;
- an extension runs from the day the period actually ended (after its roll-forward) and
  rolls again; it is refused once the period has ended unless the deadline's extension
  says `after_due: allow`;
- a due date counted over a provisional calendar year carries `provisional: [years]`;
  `recompute_effects` recounts it when the year's official data is loaded;
- at the due instant an open deadline becomes `overdue` (mark) or, when `on_overdue.fire`
  names a trigger, `expired` and the trigger fires by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, cast

from ..calendar.periods import Unit, due_date, end_of_day, local_date, provisional_years
from ..definition.model import DeadlineDef, Duration
from ..errors import Rejection
from ..records.case import SYSTEM, Actor, Case, Deadline
from ..records.lifecycle import (
    DueFields,
    Effect,
    ExtendedEffect,
    RecomputedEffect,
    ResumedEffect,
    StartedEffect,
    StopOp,
    StoppedEffect,
    TimerEffect,
)
from .compiler import CompiledProcess
from .data import is_missing


class Step:
    """What happened in one start, fire, timer or recount, as the deadline rules and the
    notices see it: when, by whom, which trigger, from which state to which. Made once per
    step by the planner (a plain slotted class: one is made per fire)."""

    __slots__ = ("at", "actor", "started", "trigger", "source", "dest", "entered", "left")

    def __init__(self, at: datetime, actor: Actor = SYSTEM, *, started: bool = False,
                 trigger: str | None = None, source: str | None = None,
                 dest: str | None = None) -> None:
        self.at, self.actor, self.started = at, actor, started
        self.trigger, self.source, self.dest = trigger, source, dest
        # the state entered (None when it stays) and the state left (never at a start)
        self.entered: str | None = (None if dest is None or (dest == source and not started)
                                    else dest)
        self.left: str | None = source if self.entered is not None and not started else None


def _matches(anchor: Any, step: Step) -> bool:
    return bool(
        (anchor.started and step.started)
        or (step.trigger is not None and step.trigger in anchor.triggers)
        or (step.entered is not None and step.entered in anchor.enter)
        or (step.left is not None and step.left in anchor.leave)
    )


Rule = tuple[DeadlineDef, bool, bool, bool]  # a deadline; whether a step supersedes, stops, starts it


def step_rules(cp: CompiledProcess, step: Step) -> tuple[Rule, ...]:
    """What a kind of step (started or not, its trigger, the states entered and left) does
    to each deadline by definition, whatever the case: the same for every case, so the
    planner works it out once per kind of step (`Planner.rules`)."""
    return tuple((d, d.supersede is not None and _matches(d.supersede, step),
                  _matches(d.stop, step), _matches(d.start, step))
                 for d in cp.process.deadlines.values())


def step_effects(cp: CompiledProcess, case: Case, step: Step, env: Any,
                 rules: tuple[Rule, ...] | None = None) -> list[Effect]:
    """Deadline effects of a start or fire whose data is already merged into `env` (None
    allowed where no deadline's `start` matches `step`: only a start reads it); `rules`:
    `step_rules` of the step, when the caller keeps them."""
    effects: list[Effect] = []
    final = step.entered in cp.final_states
    for d, supersedes, stops, starts in rules if rules is not None else step_rules(cp, step):
        running = case.deadlines.get(d.name)
        active = running is not None and running.active
        if active and supersedes:
            effects.append(_stop("superseded", running, step.at))  # type: ignore[arg-type]
            active = False
        elif active and stops:
            effects.append(_stop("met", running, step.at))  # type: ignore[arg-type]
            active = False
        elif active and final:
            effects.append(_stop("cancelled", running, step.at))  # type: ignore[arg-type]
            active = False
        elif active and running is not None:
            effects += _pause_or_resume(cp, d, running, step)
        if starts and not active and not final:
            started = _start(cp, d, step, env)
            if started is not None:
                effects.append(started)
    return effects


def _stop(op: StopOp, d: Deadline, at: datetime) -> StoppedEffect:
    late = (d.due is not None and at >= d.due) or d.status == "overdue" or d.late
    return {"deadline": d.name, "op": op, "late": late}


def _start(cp: CompiledProcess, d: DeadlineDef, step: Step, env: Any) -> StartedEffect | None:
    if d.unless and cp.expr(d.unless).evaluate(env):
        return None
    field_due = _field_due(cp, d, env)
    if field_due is not None:
        start, unit, amount = local_date(step.at, cp.tz), "field", 0
    elif d.length is None:
        return None  # due only from a field that is empty: nothing to count (FE213 warns)
    else:
        start, unit, amount = local_date(step.at, cp.tz), d.length.unit, d.length.amount
    if unit in ("minutes", "hours"):
        due = step.at + timedelta(**{unit: amount})
        return {"deadline": d.name, "op": "started", "unit": unit, "amount": amount,
                "start_date": None, "due": due, "due_date": local_date(due, cp.tz),
                "warn_at": _warn_at(cp, d, due, None)}
    last = field_due if field_due is not None else due_date(
        cp.calendar, start, amount, cast(Unit, unit), roll_forward=d.roll_forward)
    return {"deadline": d.name, "op": "started", "unit": unit, "amount": amount,
            "start_date": start, **_due_fields(cp, d, last, start if field_due is None else None)}


def _field_due(cp: CompiledProcess, d: DeadlineDef, env: Any) -> date | None:
    if d.due_field is None:
        return None
    if d.due_field.when and not cp.expr(d.due_field.when).evaluate(env):
        return None
    value = env.data.get(d.due_field.field)
    if isinstance(value, datetime):
        return local_date(value, cp.tz)
    return value if isinstance(value, date) else None


def _due_fields(cp: CompiledProcess, d: DeadlineDef, last: date, counted_from: date | None) -> DueFields:
    """Due instant, last day and warning of a deadline ending on `last`; `counted_from`:
    the first day of the count (None when no calendar counted it), for the provisional mark."""
    due = end_of_day(last, cp.tz)
    fields: DueFields = {"due": due, "due_date": last, "warn_at": _warn_at(cp, d, due, last)}
    if counted_from is not None:
        years = provisional_years(cp.calendar, counted_from, last)
        if years:
            fields["provisional"] = list(years)
    return fields


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
              pauses: list[tuple[date, date]]) -> DueFields:
    """Due fields of `running` counted again from its own start with the calendar of `cp`:
    the period, then each granted extension (and `extra`, one more) from the day the
    previous one actually ended, each rolled as the deadline rolls, `pauses` not counted."""
    granted = [*_granted(running), *([extra] if extra else [])]
    if running.unit in ("minutes", "hours"):
        shift = sum(((b - a).days for a, b in pauses), 0)
        amount = running.amount + sum(granted)
        due = running.started_at + timedelta(**{running.unit: amount}) + timedelta(days=shift)
        return {"due": due, "due_date": local_date(due, cp.tz), "warn_at": _warn_at(cp, d, due, None)}
    if running.unit == "field":
        assert running.due_date is not None
        first = running.due_date - timedelta(days=sum(_granted(running)))  # the field's date
        return _due_fields(cp, d, _extend(cp, d, first, "days", granted, pauses),
                           first if granted else None)
    assert running.start_date is not None
    unit = cast(Unit, running.unit)
    last = due_date(cp.calendar, running.start_date, running.amount, unit,
                    roll_forward=d.roll_forward, pauses=pauses)
    return _due_fields(cp, d, _extend(cp, d, last, unit, granted, pauses), running.start_date)


def _granted(running: Deadline) -> list[int]:
    """The extensions granted so far; a deadline extended before they were kept one by one
    has its total as one extension."""
    if running.granted or not running.extended:
        return list(running.granted)
    return [running.extended]


def _extend(cp: CompiledProcess, d: DeadlineDef, last: date, unit: Unit, granted: list[int],
            pauses: list[tuple[date, date]]) -> date:
    for amount in granted:
        last = due_date(cp.calendar, last, amount, unit, roll_forward=d.roll_forward, pauses=pauses)
    return last


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
        fields = recompute(cp, d, running, 0, [*running.pauses, pause])
        effect: ResumedEffect = {"deadline": d.name, "op": "resumed", "pause": [pause[0], pause[1]],
                                 **fields, "status": "overdue" if fields["due"] <= step.at else "open"}
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
        found = _extension_refusals(d, running, data, at)
        days, why = _extension_days(ext.max_total, ext.days_field, running, data)
        found += [why] if why else []
        reasons += [Rejection("extension", text) for text in found]
        if found:
            continue
        fields = recompute(cp, d, running, days, list(running.pauses))
        warn_at = fields["warn_at"]
        effect: ExtendedEffect = {
            "deadline": d.name, "op": "extended", "days": days, "unit": _unit(running),
            "reason": data.get(ext.reason_field) if ext.reason_field else None,
            "from_due": running.due_date, **fields,
            # An overdue deadline extended past `at` runs again (and stays counted as late).
            "status": "open" if fields["due"] > at else running.status,
            "late": running.late or running.status == "overdue",
            "rewarn": warn_at is not None and warn_at > at}
        effects.append(effect)
    return effects, reasons


def _unit(running: Deadline) -> str:
    """The unit an extension of `running` is counted in (a field's date is extended by days)."""
    return "days" if running.unit == "field" else running.unit


def _extension_refusals(d: DeadlineDef, running: Deadline, data: Mapping[str, Any],
                        at: datetime) -> list[str]:
    ext = d.extension
    assert ext is not None
    found = []
    ended = running.status == "overdue" or (running.due is not None and at >= running.due)
    if ended and ext.after_due != "allow":
        due = running.due_date.isoformat() if running.due_date else "its due date"
        found.append(f"the '{d.name}' period already ended on {due}; an extension must be "
                     f"approved before the period ends (it cannot turn an overdue case into "
                     f"an on-time one)")
    if ext.reason_field and is_missing(data.get(ext.reason_field)):
        found.append(f"an extension needs '{ext.reason_field}' (the reason is told to the "
                     f"petitioner)")
    if ext.max_count is not None and running.extensions >= ext.max_count:
        found.append(f"'{d.name}' was already extended {running.extensions} time(s), the most "
                     f"allowed")
    return found


def recompute_effects(cp: CompiledProcess, case: Case, at: datetime) -> list[RecomputedEffect]:
    """`recomputed` effects for the open deadlines of `case` whose due date was counted over
    a provisional calendar year that `cp.calendar` now answers differently: either the year
    became official (its provisional mark goes) or the date moved. Idempotent: a deadline
    recounted to what it already says gives no effect."""
    effects: list[RecomputedEffect] = []
    for running in case.deadlines.values():
        if not running.provisional or running.status not in ("open", "overdue"):
            continue
        d = cp.process.deadlines[running.name]
        fields = recompute(cp, d, running, 0, list(running.pauses))
        years = fields.get("provisional", [])
        if fields["due_date"] == running.due_date and tuple(years) == running.provisional:
            continue
        warn_at = fields["warn_at"]
        effect: RecomputedEffect = {
            "deadline": running.name, "op": "recomputed", "old_due_date": running.due_date,
            **fields, "provisional": years,
            # Still past the new due: stays overdue; otherwise open, and a timer marks it
            # overdue (with its notice) if the new due has already come.
            "status": "overdue" if running.status == "overdue" and fields["due"] <= at else "open",
            "rewarn": warn_at is not None and warn_at > at,
            "why": _recompute_reason(running.provisional, years)}
        effects.append(effect)
    return effects


def _recompute_reason(before: tuple[int, ...], after: list[int]) -> str:
    official = [y for y in before if y not in after]
    return ("official holiday arrangement loaded for " + ", ".join(map(str, official))
            if official else "calendar data changed")


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


def timer_effect(cp: CompiledProcess, d: Deadline, at: datetime) -> TimerEffect:
    """What a deadline's timer does at `at` (its warn instant or its due instant). Its values
    are text and flags, JSON as they are: `Planner.timers` drafts them without conversion."""
    if d.warn_at is not None and not d.warned and at == d.warn_at and (d.due is None or at < d.due):
        return {"deadline": d.name, "op": "warned"}
    spec = cp.process.deadlines[d.name]
    over = spec.on_overdue
    if over is not None and over.fire:
        return {"deadline": d.name, "op": "expired", "fire": over.fire}
    if over is None or over.mark:
        return {"deadline": d.name, "op": "overdue"}
    return {"deadline": d.name, "op": "overdue", "mark": False}
