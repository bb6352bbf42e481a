"""TableCalendar on synthetic years: plain weekends, gaps between covered years."""

from __future__ import annotations

from datetime import date

import pytest

from flowengine.calendar import Calendar, TableCalendar, YearDays
from flowengine.errors import CalendarYearMissing


def weekends_only(*years: int) -> TableCalendar:
    return TableCalendar({y: YearDays.weekends(y) for y in years})


def test_plain_weekends():
    cal = weekends_only(2030)
    assert isinstance(cal, Calendar)
    assert cal.is_workday(date(2030, 1, 4)) is True  # Friday
    assert cal.is_workday(date(2030, 1, 5)) is False  # Saturday
    assert cal.add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)
    assert cal.next_workday(date(2030, 1, 5)) == date(2030, 1, 7)
    assert cal.working_days_between(date(2030, 1, 4), date(2030, 1, 11)) == 5
    assert cal.day_name(date(2030, 1, 5)) is None


def test_leap_year_has_366_flags_and_feb_29():
    assert len(YearDays.weekends(2028).flags) == 366
    cal = weekends_only(2028)
    assert cal.is_workday(date(2028, 2, 29)) is True  # a Tuesday
    assert cal.add_working_days(date(2028, 2, 28), 2) == date(2028, 3, 1)


def test_with_days_names_and_overrides_only_its_year():
    year = YearDays.weekends(2030).with_days(
        {date(2030, 1, 4): "local", date(2031, 1, 1): "ignored"}, {date(2030, 1, 5): "make-up"}
    )
    cal = TableCalendar({2030: year})
    assert cal.is_workday(date(2030, 1, 4)) is False
    assert cal.is_workday(date(2030, 1, 5)) is True
    assert cal.day_name(date(2030, 1, 4)) == "local"
    assert date(2031, 1, 1) not in year.names


def test_working_days_win_over_holidays_on_the_same_day():
    day = date(2030, 1, 4)
    cal = TableCalendar({2030: YearDays.weekends(2030).with_days({day: "h"}, {day: "w"})})
    assert cal.is_workday(day) is True
    assert cal.day_name(day) == "w"


def test_a_gap_year_between_covered_years_is_refused_even_when_crossed():
    cal = weekends_only(2030, 2032)
    assert not cal.covers(2031)
    with pytest.raises(CalendarYearMissing) as info:
        cal.add_working_days(date(2030, 12, 30), 5)  # would land in 2031
    assert info.value.year == 2031
    with pytest.raises(CalendarYearMissing) as info:
        cal.working_days_between(date(2030, 6, 1), date(2032, 6, 1))
    assert info.value.year == 2031
    with pytest.raises(CalendarYearMissing):
        cal.is_workday(date(2031, 6, 2))
    assert cal.add_working_days(date(2032, 1, 1), 1) == date(2032, 1, 2)


def test_running_past_the_last_covered_year_is_refused():
    cal = weekends_only(2030)
    with pytest.raises(CalendarYearMissing) as info:
        cal.add_working_days(date(2030, 12, 30), 3)
    assert info.value.year == 2031


def test_year_days_and_source():
    cal = TableCalendar({2030: YearDays.weekends(2030)}, {2030: "test data"})
    assert cal.years == (2030,)
    assert cal.source(2030) == "test data"
    assert cal.source(2031) is None
    with pytest.raises(CalendarYearMissing):
        cal.year_days(2031)


def test_an_empty_table_is_refused():
    with pytest.raises(ValueError):
        TableCalendar({})
