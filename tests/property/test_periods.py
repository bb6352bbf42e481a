"""The deadline invariants of issue 3 as hypothesis properties, over dates 2004–2026.

Each property also compares the fast calendar with a naive reference: a day-by-day walk
over `chinese_calendar.is_workday`, written from the rules and nothing else. (Properties 4
and 6, about extensions and timers in the engine, live with the engine's tests;
property 7, layering, is in test_calendar_layering.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache

import chinese_calendar  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowengine.calendar import due_date, explain_due, national_calendar
from flowengine.errors import CalendarYearMissing

CAL = national_calendar()
ONE = timedelta(days=1)
FIRST, LAST = date(2004, 1, 1), date(2026, 12, 31)

# Starts leave room before 2027 for the largest periods below, so no example runs out of data.
starts = st.dates(FIRST, date(2026, 3, 31))
working_amounts = st.integers(1, 100)
day_amounts = st.integers(0, 150)
units = st.sampled_from(["days", "working_days"])
pause_lists = st.lists(st.tuples(st.integers(-20, 150), st.integers(0, 30)), max_size=3)

FAST = settings(max_examples=300, deadline=None)
SLOW = settings(max_examples=150, deadline=None)


# -- the naive reference ---------------------------------------------------------------


@cache
def ref_workday(d: date) -> bool:
    return chinese_calendar.is_workday(d)


def ref_count(start: date, end: date, counted, pauses: Sequence[tuple[date, date]] = ()) -> int:
    """Counted, unpaused days in (start, end], walking one day at a time."""
    n, d = 0, start + ONE
    while d <= end:
        if counted(d) and not any(a <= d < b for a, b in pauses):
            n += 1
        d += ONE
    return n


def ref_due(start: date, n: int, unit: str, roll: bool = True, pauses=()) -> date:
    counted = ref_workday if unit == "working_days" else (lambda d: True)
    d, found = start, 0
    while found < n:
        d += ONE
        if counted(d) and not any(a <= d < b for a, b in pauses):
            found += 1
    return ref_next(d) if unit == "days" and roll else d


def ref_next(d: date) -> date:
    while not ref_workday(d):
        d += ONE
    return d


def make_pauses(start: date, spec: list[tuple[int, int]]) -> list[tuple[date, date]]:
    return [(start + timedelta(days=o), start + timedelta(days=o + n)) for o, n in spec]


# -- agreement with the reference ------------------------------------------------------


@FAST
@given(st.dates(FIRST, LAST), st.dates(FIRST, LAST))
def test_between_and_next_workday_agree_with_the_reference(a, b):
    if b > a and (b - a).days > 400:
        b = a + timedelta(days=(b - a).days % 400)
    assert CAL.working_days_between(a, b) == ref_count(a, b, ref_workday)
    assert CAL.is_workday(a) is ref_workday(a)
    if a < date(2026, 12, 1):
        assert CAL.next_workday(a) == ref_next(a)


# -- 1. a working-day due date ---------------------------------------------------------


@FAST
@given(starts, working_amounts)
def test_1_working_day_due_is_a_working_day_with_exactly_n_in_between(start, n):
    due = due_date(CAL, start, n, "working_days")
    assert CAL.is_workday(due) and ref_workday(due)
    assert ref_count(start, due, ref_workday) == n
    assert CAL.working_days_between(start, due) == n
    assert due == CAL.add_working_days(start, n) == ref_due(start, n, "working_days")


# -- 2. a day-period due date ----------------------------------------------------------


@FAST
@given(starts, day_amounts)
def test_2_day_period_due_is_the_first_working_day_from_start_plus_n(start, n):
    nominal = start + timedelta(days=n)
    due = due_date(CAL, start, n, "days")
    assert due >= nominal
    assert ref_workday(due)
    d = nominal
    while d < due:  # the nominal day itself and every day after it, before due, is a rest day
        assert not ref_workday(d), d
        d += ONE
    assert due == ref_due(start, n, "days")
    assert due_date(CAL, start, n, "days", roll_forward=False) == nominal


# -- 3. additivity and monotonicity ----------------------------------------------------


@FAST
@given(starts, st.integers(0, 50), st.integers(0, 50))
def test_3_adding_a_then_b_working_days_equals_adding_a_plus_b(start, a, b):
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == CAL.add_working_days(
        start, a + b
    )
    assert due_date(CAL, due_date(CAL, start, a, "working_days"), b, "working_days") == (
        due_date(CAL, start, a + b, "working_days")
    )


@FAST
@given(starts, starts, day_amounts, units)
def test_3_due_dates_are_monotonic_in_the_start(s1, s2, n, unit):
    s1, s2 = min(s1, s2), max(s1, s2)
    assert due_date(CAL, s1, n, unit) <= due_date(CAL, s2, n, unit)


@FAST
@given(starts, day_amounts, day_amounts, units)
def test_3_due_dates_are_monotonic_in_n(start, n1, n2, unit):
    n1, n2 = min(n1, n2), max(n1, n2)
    assert due_date(CAL, start, n1, unit) <= due_date(CAL, start, n2, unit)


# -- 5. pauses -------------------------------------------------------------------------


@SLOW
@given(starts, st.integers(0, 100), units, pause_lists)
def test_5_a_pause_never_makes_a_due_date_earlier(start, n, unit, spec):
    pauses = make_pauses(start, spec)
    assert due_date(CAL, start, n, unit, pauses=pauses) >= due_date(CAL, start, n, unit)


@SLOW
@given(starts, st.integers(0, 100), units, pause_lists)
def test_5_counted_days_minus_paused_ones_equal_n(start, n, unit, spec):
    pauses = make_pauses(start, spec)
    why = explain_due(CAL, start, n, unit, pauses=pauses)
    counted = ref_workday if unit == "working_days" else (lambda d: True)
    assert ref_count(start, why.nominal, counted, pauses) == n
    if n:  # the smallest such date: the nominal day is itself counted and not paused
        assert ref_count(start, why.nominal - ONE, counted, pauses) == n - 1
    assert why.due == ref_due(start, n, unit, pauses=pauses)


# -- 8. years without data -------------------------------------------------------------

uncovered = st.one_of(st.dates(date(1900, 1, 1), date(2003, 12, 31)),
                      st.dates(date(2101, 1, 1), date(2200, 12, 31)))
"""Years nothing covers: before the national data, and after the provisional rule's range."""
EDGE = date(2100, 12, 31)  # the last day the provisional rule computes


def every_operation(d: date, other: date, n: int):
    """Each operation of the calendar and the period functions, on date `d`."""
    return {
        "is_workday": lambda: CAL.is_workday(d),
        "next_workday": lambda: CAL.next_workday(d),
        "add_working_days": lambda: CAL.add_working_days(d, n),
        "working_days_between(d, other)": lambda: CAL.working_days_between(d, other),
        "working_days_between(d, d)": lambda: CAL.working_days_between(d, d),
        "day_name": lambda: CAL.day_name(d),
        "due_date days": lambda: due_date(CAL, d, n, "days"),
        "due_date days no roll": lambda: due_date(CAL, d, n, "days", roll_forward=False),
        "due_date working_days": lambda: due_date(CAL, d, n, "working_days"),
        "explain_due days": lambda: explain_due(CAL, d, n, "days"),
        "explain_due working_days": lambda: explain_due(CAL, d, n, "working_days"),
    }


@FAST
@given(uncovered, st.dates(FIRST, LAST), st.integers(0, 400))
def test_8_every_operation_on_a_year_without_data_raises(d, other, n):
    for name, call in every_operation(d, other, n).items():
        with pytest.raises(CalendarYearMissing) as info:
            call()
        assert info.value.year == d.year, name


@FAST
@given(st.dates(date(2100, 1, 1), EDGE), st.dates(date(2101, 1, 1), date(2200, 12, 31)))
def test_8_running_from_2100_into_a_year_without_data_raises_2101(d, later):
    left = CAL.working_days_between(d, EDGE)
    with pytest.raises(CalendarYearMissing) as info:
        CAL.add_working_days(d, left + 1)
    assert info.value.year == 2101
    with pytest.raises(CalendarYearMissing) as info:
        CAL.working_days_between(d, later)
    assert info.value.year == 2101
    with pytest.raises(CalendarYearMissing):
        due_date(CAL, d, (later - d).days, "days", roll_forward=False)
    with pytest.raises(CalendarYearMissing):
        due_date(CAL, d, left + 1, "working_days")
