"""Statutory period arithmetic: when "N days" or "N working days" from a date runs out.

The rules are the Civil Code's (民法典 arts. 200–204, 民事诉讼法 art. 85, by analogy):

- N days from X: X is not counted; the nominal last day is X + N; if that is a rest day
  and roll-forward is on (the default), the period ends on the next working day.
- N working days from X: the N-th working day strictly after X.
- A start on a rest day counts from that actual date (option (a): the start date itself,
  not the next working day).
- An extension is added by the caller to `amount`, in the same unit, so it extends the
  nominal last day and the roll applies after it.
- A pause (A, B) removes the days A <= d < B that the period counts (calendar days for a
  day period, working days for a working-day period): the due date is the smallest date
  with N counted, unpaused days in (start, due]; a day period then rolls forward.
- The deadline falls due at the end of its last local day: 00:00 of the next day.

Every function asks the calendar about the start and the due date even when the answer is
not needed (a day period with roll-forward off), so a period that touches a year without
calendar data is refused the same way every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Literal
from zoneinfo import ZoneInfo

from .base import Calendar, weekday_name

Unit = Literal["days", "working_days"]
Pause = tuple[date, date]


@dataclass(frozen=True)
class DueExplanation:
    """A due date and why: `nominal` is the last counted day before any roll;
    `provisional` the years of the period answered by the provisional rule."""

    due: date
    nominal: date
    reasons: list[str] = field(default_factory=list)
    provisional: tuple[int, ...] = ()


def provisional_years(cal: Calendar, first: date, last: date) -> tuple[int, ...]:
    """The years of the days first..last that `cal` answers provisionally: a period counted
    over them may move when the year's official data arrives (domain rule "a missing year
    never stops a legal duty"). Empty for a calendar that has no notion of provisional."""
    check = getattr(cal, "provisional", None)
    if check is None:
        return ()
    lo, hi = min(first, last), max(first, last)
    return tuple(y for y in range(lo.year, hi.year + 1) if check(y))


def due_date(
    cal: Calendar,
    start: date,
    amount: int,
    unit: Unit,
    *,
    roll_forward: bool = True,
    pauses: Sequence[Pause] = (),
) -> date:
    """The last day of the period (it is due at that day's end; see `end_of_day`)."""
    nominal = _nominal(cal, start, amount, unit, _merge(pauses))
    return _roll(cal, nominal, unit, roll_forward)


def explain_due(
    cal: Calendar,
    start: date,
    amount: int,
    unit: Unit,
    *,
    roll_forward: bool = True,
    pauses: Sequence[Pause] = (),
) -> DueExplanation:
    """`due_date` plus the reasons a clerk needs: rolls, skipped holidays, pauses."""
    merged = _merge(pauses)
    nominal = _nominal(cal, start, amount, unit, merged)
    due = _roll(cal, nominal, unit, roll_forward)
    reasons = _pause_reasons(cal, start, nominal, unit, merged)
    if unit == "working_days":
        reasons += _named_days(cal, start, nominal)
    else:
        reasons += _roll_reasons(cal, nominal, due, roll_forward)
    provisional = provisional_years(cal, start, due)
    reasons += [f"{year}: provisional calendar (weekends and the statutory holidays; the State "
                f"Council's {year} arrangement is not loaded yet)" for year in provisional]
    return DueExplanation(due, nominal, reasons, provisional)


def end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """The instant a deadline whose last day is `d` falls due: 00:00 local of the next day."""
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The local calendar date of a timezone-aware instant (naive instants are refused)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {instant.isoformat()} has no time zone offset")
    return instant.astimezone(tz).date()


# -- computing -------------------------------------------------------------------------


def _check_args(start: date, amount: int, unit: str) -> None:
    if isinstance(start, datetime):
        raise TypeError("pass a local date, not a datetime (see local_date)")
    if unit not in ("days", "working_days"):
        raise ValueError(f"unit must be 'days' or 'working_days', not {unit!r}")
    if amount < 0:
        raise ValueError(f"a period cannot be negative ({amount} {unit})")


def _merge(pauses: Sequence[Pause]) -> list[Pause]:
    """Pauses sorted and merged into disjoint [A, B) spans; empty ones dropped."""
    spans = []
    for a, b in pauses:
        if b < a:
            raise ValueError(f"a pause cannot end ({b}) before it starts ({a})")
        if b > a:
            spans.append((a, b))
    merged: list[Pause] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _nominal(cal: Calendar, start: date, amount: int, unit: Unit, pauses: list[Pause]) -> date:
    """The smallest date with `amount` counted, unpaused days in (start, date]."""
    _check_args(start, amount, unit)
    cal.is_workday(start)  # refuses a start in an uncovered year, whatever the unit
    if unit == "days":
        return _count_days(start, amount, pauses)
    return _count_working_days(cal, start, amount, pauses)


def _count_days(start: date, n: int, pauses: list[Pause]) -> date:
    cursor = start  # every counted day up to here is used
    for a, b in pauses:
        if b <= cursor + timedelta(days=1):
            continue
        free = (max(a, cursor + timedelta(days=1)) - cursor).days - 1
        if free >= n:
            break
        n -= free
        cursor = b - timedelta(days=1)
    return cursor + timedelta(days=n)


def _count_working_days(cal: Calendar, start: date, n: int, pauses: list[Pause]) -> date:
    cursor = start
    for a, b in pauses:
        first_paused = max(a, cursor + timedelta(days=1))
        if b <= first_paused:
            continue
        candidate = cal.add_working_days(cursor, n)
        if candidate < first_paused:
            return candidate
        n -= cal.working_days_between(cursor, first_paused - timedelta(days=1))
        cursor = b - timedelta(days=1)
    return cal.add_working_days(cursor, n)


def _roll(cal: Calendar, nominal: date, unit: Unit, roll_forward: bool) -> date:
    if roll_forward and unit == "days":
        return cal.next_workday(nominal)
    cal.is_workday(nominal)  # refuses an uncovered year even when nothing rolls
    return nominal


# -- explaining ------------------------------------------------------------------------


def describe_day(cal: Calendar, d: date) -> str:
    """What a day is, for reasons: '国庆节', 'a Saturday', '调休上班 (春节), a working day'."""
    name = cal.day_name(d)
    if cal.is_workday(d):
        return f"{name}, a working day" if name else "a working day"
    return name or f"a {weekday_name(d)}"


def _roll_reasons(cal: Calendar, nominal: date, due: date, roll_forward: bool) -> list[str]:
    if cal.is_workday(nominal):
        if nominal.weekday() >= 5:
            return [f"{nominal} is {describe_day(cal, nominal)}; not rolled"]
        return []
    what = describe_day(cal, nominal)
    if not roll_forward:
        return [f"{nominal} is {what}; not rolled (roll-forward is off)"]
    return [f"{nominal} is {what}; rolled to {due}"]


def _pause_reasons(
    cal: Calendar, start: date, nominal: date, unit: Unit, pauses: list[Pause]
) -> list[str]:
    reasons = []
    for a, b in pauses:
        lo, hi = max(a, start + timedelta(days=1)), min(b, nominal + timedelta(days=1))
        if hi <= lo:
            continue
        last = hi - timedelta(days=1)
        if unit == "days":
            count, what = (hi - lo).days, "days"
        else:
            count = cal.working_days_between(lo - timedelta(days=1), last)
            what = "working days"
        reasons.append(f"paused from {a} until {b}: {count} {what} not counted")
    return reasons


def _named_days(cal: Calendar, start: date, due: date) -> list[str]:
    """Holidays skipped and weekend make-up days counted in (start, due], in runs."""
    days = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    named = [(d, cal.day_name(d), cal.is_workday(d)) for d in days]
    reasons = []
    for (name, worked), run in groupby(named, key=lambda t: (t[1], t[2])):
        dates = [d for d, _, _ in run]
        if name is None:
            continue
        span = str(dates[0]) if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
        verb = "counted as a working day" if worked else "skipped"
        reasons.append(f"{span} {'is' if len(dates) == 1 else 'are'} {name}; {verb}")
    return reasons
