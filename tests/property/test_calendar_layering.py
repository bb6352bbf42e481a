"""Property 7 of issue 3 and the layering rules, on calendar layers generated in memory.

A layered calendar is compared with a naive model: a dict of overridden days (later layers
win) over `chinese_calendar.is_workday`, walked one day at a time.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from flowengine.calendar import CalendarLayer, LayeredCalendar, due_date, national_calendar

NATIONAL = national_calendar()
ONE = timedelta(days=1)
starts = st.dates(date(2004, 1, 11), date(2026, 3, 31))  # offsets reach 10 days back
units = st.sampled_from(["days", "working_days"])
amounts = st.integers(0, 80)
offsets = st.sets(st.integers(-10, 150), max_size=12)
pause_lists = st.lists(st.tuples(st.integers(-10, 100), st.integers(0, 20)), max_size=2)

SETTINGS = settings(max_examples=150, deadline=None)


@cache
def national_workday(d: date) -> bool:
    return chinese_calendar.is_workday(d)


def layer(holidays=(), workdays=(), covers=()) -> CalendarLayer:
    return CalendarLayer(
        name="generated",
        path="<generated>",
        covers=frozenset(covers),
        holidays={d: "local holiday" for d in holidays},
        workdays={d: "local working day" for d in workdays},
    )


def days_from(start: date, offs: set[int]) -> list[date]:
    return [start + timedelta(days=o) for o in sorted(offs)]


def pauses_from(start: date, spec: list[tuple[int, int]]) -> list[tuple[date, date]]:
    return [(start + timedelta(days=o), start + timedelta(days=o + n)) for o, n in spec]


# -- 7. only working days added: never later; only holidays added: never earlier ------


@SETTINGS
@given(starts, amounts, units, offsets, pause_lists)
def test_7_a_layer_that_only_adds_working_days_never_makes_a_due_date_later(
    start, n, unit, offs, spec
):
    cal = LayeredCalendar(NATIONAL, [layer(workdays=days_from(start, offs))])
    pauses = pauses_from(start, spec)
    for roll in (True, False):
        layered = due_date(cal, start, n, unit, roll_forward=roll, pauses=pauses)
        assert layered <= due_date(NATIONAL, start, n, unit, roll_forward=roll, pauses=pauses)


@SETTINGS
@given(starts, amounts, units, offsets, pause_lists)
def test_7_a_layer_that_only_adds_holidays_never_makes_a_due_date_earlier(
    start, n, unit, offs, spec
):
    cal = LayeredCalendar(NATIONAL, [layer(holidays=days_from(start, offs))])
    pauses = pauses_from(start, spec)
    for roll in (True, False):
        layered = due_date(cal, start, n, unit, roll_forward=roll, pauses=pauses)
        assert layered >= due_date(NATIONAL, start, n, unit, roll_forward=roll, pauses=pauses)


# -- layered calendars against the naive model -----------------------------------------

layer_specs = st.lists(
    st.tuples(offsets, offsets).map(lambda t: (t[0], t[1] - t[0])),  # disjoint per layer
    min_size=1,
    max_size=3,
)


def model(start: date, specs) -> dict[date, bool]:
    """Overridden days, later layers winning: True for a working day."""
    days: dict[date, bool] = {}
    for holiday_offs, work_offs in specs:
        days.update({d: False for d in days_from(start, holiday_offs)})
        days.update({d: True for d in days_from(start, work_offs)})
    return days


@SETTINGS
@given(starts, layer_specs, st.integers(1, 60), st.integers(0, 120))
def test_layered_calendar_matches_the_model(start, specs, n, span):
    layers = [layer(days_from(start, h), days_from(start, w)) for h, w in specs]
    cal = LayeredCalendar(NATIONAL, layers)
    overrides = model(start, specs)

    def workday(d: date) -> bool:
        return overrides.get(d, national_workday(d))

    d, found = start, 0
    while found < n:
        d += ONE
        found += workday(d)
    assert cal.add_working_days(start, n) == d
    end = start + timedelta(days=span)
    assert cal.working_days_between(start, end) == sum(
        workday(start + timedelta(days=i)) for i in range(1, span + 1)
    )
    for i in range(-10, 151):
        day = start + timedelta(days=i)
        assert cal.is_workday(day) is workday(day), day
        if day in overrides:
            assert cal.day_name(day) == ("local working day" if overrides[day] else "local holiday")


@SETTINGS
@given(st.integers(2027, 2040), st.sets(st.integers(0, 364), max_size=20),
       st.sets(st.integers(0, 364), max_size=10), st.integers(0, 364), st.integers(1, 40))
def test_a_generated_full_year_layer_makes_exactly_that_year_official(
    year, holiday_offs, work_offs, start_off, n
):
    jan1 = date(year, 1, 1)
    holidays = days_from(jan1, holiday_offs - work_offs)
    workdays = days_from(jan1, work_offs)
    cal = LayeredCalendar(NATIONAL, [layer(holidays, workdays, covers=[year])])

    def workday(d: date) -> bool:
        if d.year != year:  # the neighbours keep the national (provisional) answer
            return NATIONAL.is_workday(d)
        return d in workdays or (d.weekday() < 5 and d not in holidays)

    start = jan1 + timedelta(days=start_off)
    d, found = start, 0
    while found < n:
        d += ONE
        found += workday(d)
    assert cal.add_working_days(start, n) == d
    assert cal.covers(year) and not cal.provisional(year)
    for other in (year - 1, year + 1):
        assert cal.provisional(other) is (other > 2026)
