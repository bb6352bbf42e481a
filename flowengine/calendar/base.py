"""The `Calendar` protocol, and `TableCalendar`: the one fast implementation behind it.

Every deadline in the engine asks a calendar the same few questions, so they are answered
from arrays built once rather than by walking days: a flag per day, the running count of
working days, and the sorted list of working days. Then "is D a working day" is one index,
"the N-th working day after D" is two, "working days in (A, B]" is a subtraction.

A calendar knows which *years* it covers, and which of them it covers only provisionally
(by the statutory rule of `provisional.py`, until the State Council's notice is loaded).
A question that touches any day of a year it does not cover at all raises
`CalendarYearMissing(year)`: a legal deadline is never computed from a guessed holiday
arrangement, and a provisional answer is always marked as such by the caller.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol, runtime_checkable

from ..errors import CalendarYearMissing

MIN_YEAR = 1900
MAX_YEAR = 2200
"""Years a calendar file may cover; also the range probed on a foreign `Calendar`."""

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def year_length(year: int) -> int:
    """365 or 366."""
    return 366 if _stdlib_calendar.isleap(year) else 365


@runtime_checkable
class Calendar(Protocol):
    """What deadlines need to know about days. Every method refuses uncovered years."""

    def is_workday(self, d: date) -> bool:
        """True for a working day (make-up 调休上班 weekend days included)."""
        ...

    def next_workday(self, d: date) -> date:
        """The first working day on or after `d`."""
        ...

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day strictly after `d` (n >= 1); `d` itself when n == 0."""
        ...

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days lie in (a, b]; 0 when b <= a."""
        ...

    def day_name(self, d: date) -> str | None:
        """'国庆节', '调休上班 (春节)' …; None for an ordinary weekday or weekend."""
        ...

    def covers(self, year: int) -> bool:
        """Whether the calendar has the full arrangement of `year` (never raises)."""
        ...

    def provisional(self, year: int) -> bool:
        """Whether `year` is answered by the provisional rule, not official data (never
        raises; False for an uncovered year)."""
        ...


def weekday_name(d: date) -> str:
    """'Saturday' etc., for messages about ordinary weekends."""
    return _WEEKDAY_NAMES[d.weekday()]


@dataclass(frozen=True)
class YearDays:
    """One covered year: a 0/1 working-day flag per day (1 January first) and day names."""

    year: int
    flags: bytes
    names: Mapping[date, str] = field(default_factory=dict)

    @classmethod
    def weekends(cls, year: int) -> YearDays:
        """A year with Saturdays and Sundays off and nothing else: the base of every plan."""
        first = date(year, 1, 1).weekday()
        return cls(year, bytes(int((first + i) % 7 < 5) for i in range(year_length(year))), {})

    def with_days(self, holidays: Mapping[date, str], workdays: Mapping[date, str]) -> YearDays:
        """A copy where `holidays` are rest days and `workdays` working days (these win).

        Days of other years are ignored, so callers may pass a whole file's days.
        """
        flags = bytearray(self.flags)
        names = dict(self.names)
        for days, flag in ((holidays, 0), (workdays, 1)):
            for d, name in days.items():
                if d.year == self.year:
                    flags[d.timetuple().tm_yday - 1] = flag
                    names[d] = name
        return YearDays(self.year, bytes(flags), names)

    def is_workday(self, d: date) -> bool:
        return bool(self.flags[d.timetuple().tm_yday - 1])


class TableCalendar:
    """A `Calendar` answering from arrays built once over the covered years.

    Years between the first and last covered year that are not covered hold no working
    days in the arrays and are refused by `_first_gap` before any answer is read.
    """

    def __init__(self, years: Mapping[int, YearDays], sources: Mapping[int, str] | None = None,
                 provisional: Iterable[int] = ()):
        if not years:
            raise ValueError("a calendar needs at least one covered year")
        self._years = dict(sorted(years.items()))
        self._sources = dict(sources or {})
        self._provisional = frozenset(provisional) & self._years.keys()
        first, last = min(self._years), max(self._years)
        self._base = date(first, 1, 1).toordinal()
        self._next_gap = _next_gaps(first, last, self._years.keys())
        # An uncovered year inside the span holds no working day, so none is ever found there.
        self._flags = b"".join(
            self._years[y].flags if y in self._years else bytes(year_length(y))
            for y in range(first, last + 1)
        )
        self._cum, self._work = _running_counts(self._flags, self._base)
        self._names = {d: n for yd in self._years.values() for d, n in yd.names.items()}

    # -- the Calendar protocol -------------------------------------------------------

    def covers(self, year: int) -> bool:
        return year in self._years

    def provisional(self, year: int) -> bool:
        return year in self._provisional

    def is_workday(self, d: date) -> bool:
        self._require(d.year, d.year)
        return bool(self._flags[d.toordinal() - self._base])

    def day_name(self, d: date) -> str | None:
        self._require(d.year, d.year)
        return self._names.get(d)

    def next_workday(self, d: date) -> date:
        self._require(d.year, d.year)
        if self._flags[d.toordinal() - self._base]:
            return d
        return self._nth_after(d, 1)

    def add_working_days(self, d: date, n: int) -> date:
        if n < 0:
            raise ValueError(f"add_working_days counts forward only (n={n})")
        self._require(d.year, d.year)
        return d if n == 0 else self._nth_after(d, n)

    def working_days_between(self, a: date, b: date) -> int:
        if b <= a:
            self._require(a.year, a.year)
            self._require(b.year, b.year)
            return 0
        self._require(a.year, b.year)
        return self._cum[b.toordinal() - self._base] - self._cum[a.toordinal() - self._base]

    # -- beyond the protocol ---------------------------------------------------------

    @property
    def years(self) -> tuple[int, ...]:
        """The covered years, ascending."""
        return tuple(self._years)

    @property
    def provisional_years(self) -> frozenset[int]:
        """The covered years answered by the provisional rule."""
        return self._provisional

    def year_days(self, year: int) -> YearDays:
        """The arrangement of one covered year (used to layer files on top)."""
        self._require(year, year)
        return self._years[year]

    def source(self, year: int) -> str | None:
        """What supplied the arrangement of `year` (a file, the national data), if covered."""
        return self._sources.get(year) if year in self._years else None

    # -- internals -------------------------------------------------------------------

    def _require(self, first: int, last: int) -> None:
        """Raise for the first uncovered year in first..last."""
        gap = self._next_gap.get(first, first)
        if gap <= last:
            raise CalendarYearMissing(gap)

    def _nth_after(self, d: date, n: int) -> date:
        """The n-th (n >= 1) working day after a covered `d`, refusing to cross a gap."""
        gap = self._next_gap[d.year]
        k = self._cum[d.toordinal() - self._base] + n - 1
        if k >= len(self._work):
            raise CalendarYearMissing(gap)
        found = date.fromordinal(self._work[k])
        if found.year >= gap:
            raise CalendarYearMissing(gap)
        return found


def _next_gaps(first: int, last: int, covered: Container[int]) -> dict[int, int]:
    """For each year first..last, the first uncovered year at or after it (maybe last+1)."""
    gaps: dict[int, int] = {}
    gap = last + 1
    for year in range(last, first - 1, -1):
        if year not in covered:
            gap = year
        gaps[year] = gap
    return gaps


def _running_counts(flags: bytes, base: int) -> tuple[list[int], list[int]]:
    """`cum[i]` = working days in [base, base+i]; `work` = ordinals of the working days."""
    cum: list[int] = []
    work: list[int] = []
    count = 0
    for i, flag in enumerate(flags):
        if flag:
            count += 1
            work.append(base + i)
        cum.append(count)
    return cum, work


def dates_of_year(year: int) -> list[date]:
    """Every day of `year`, in order."""
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range(year_length(year))]
