"""The national calendar against the 2025/2026 notices (domain.md §5) and chinese-calendar."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar  # type: ignore[import-untyped]
import pytest
from cn_holiday_tables import day_off_cases, makeup_cases

from flowengine.calendar import Calendar, NationalCalendar, national_calendar
from flowengine.calendar.base import dates_of_year
from flowengine.errors import CalendarYearMissing

CAL = national_calendar()


@pytest.mark.parametrize(("day", "names"), day_off_cases(), ids=str)
def test_every_2025_2026_day_off_is_a_rest_day_named_after_its_festival(day, names):
    assert CAL.is_workday(day) is False
    assert CAL.day_name(day) in names


@pytest.mark.parametrize(("day", "festival"), makeup_cases(), ids=str)
def test_every_2025_2026_makeup_day_is_a_working_weekend_day(day, festival):
    assert day.weekday() >= 5  # the table's make-up days are all weekend days
    assert CAL.is_workday(day) is True
    assert CAL.day_name(day) == f"调休上班 ({festival})"


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_other_day_of_2025_2026_is_an_ordinary_day(year):
    special = {d for d, _ in day_off_cases()} | {d for d, _ in makeup_cases()}
    for day in dates_of_year(year):
        if day not in special:
            assert CAL.is_workday(day) is (day.weekday() < 5), day
            assert CAL.day_name(day) is None, day


def test_agrees_with_chinese_calendar_on_every_day_2004_2026():
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert CAL.is_workday(day) is chinese_calendar.is_workday(day), day
        on_holiday_list, name = chinese_calendar.get_holiday_detail(day)
        assert (CAL.day_name(day) is None) is (name is None), day
        day += timedelta(days=1)


def test_covers_the_package_years_officially_and_later_years_provisionally():
    assert [y for y in range(1990, 2040) if CAL.covers(y)] == list(range(2004, 2040))
    assert [y for y in range(2004, 2040) if CAL.provisional(y)] == list(range(2027, 2040))
    assert CAL.covers(2100) and not CAL.covers(2101)


def test_is_a_calendar_and_is_shared():
    assert isinstance(CAL, Calendar)
    assert isinstance(CAL, NationalCalendar)
    assert national_calendar() is CAL


@pytest.mark.parametrize("day", [date(2101, 1, 4), date(2003, 12, 31), date(2150, 6, 1)])
def test_every_operation_refuses_a_year_without_data(day):
    covered = date(2026, 6, 1)
    # A span from 2026 to a later year is refused at its first uncovered year.
    first_gap_after_2026 = 2101 if day.year > 2026 else day.year
    calls = [
        (lambda: CAL.is_workday(day), day.year),
        (lambda: CAL.next_workday(day), day.year),
        (lambda: CAL.add_working_days(day, 1), day.year),
        (lambda: CAL.add_working_days(day, 0), day.year),
        (lambda: CAL.working_days_between(day, covered), day.year),
        (lambda: CAL.working_days_between(covered, day), first_gap_after_2026),
        (lambda: CAL.day_name(day), day.year),
    ]
    for call, year in calls:
        with pytest.raises(CalendarYearMissing) as info:
            call()
        assert info.value.year == year
        assert f"cn-{year}.yaml" in str(info.value)


def test_counting_past_2100_is_refused_but_up_to_its_edge_is_answered():
    last = date(2100, 12, 31)  # a Friday
    assert CAL.add_working_days(date(2100, 12, 30), 1) == last
    with pytest.raises(CalendarYearMissing) as info:
        CAL.add_working_days(date(2100, 12, 30), 2)
    assert info.value.year == 2101
    assert CAL.next_workday(last) == last
    with pytest.raises(CalendarYearMissing):
        CAL.working_days_between(date(2100, 12, 1), date(2101, 1, 5))


def test_counting_into_2027_uses_the_provisional_rule():
    # 2026-12-24 Thu: 12-25, 28, 29, 30, 31, then 2027-01-04 … 08 (元旦 01-01 off by law).
    assert CAL.add_working_days(date(2026, 12, 24), 5) == date(2026, 12, 31)
    assert CAL.add_working_days(date(2026, 12, 24), 10) == date(2027, 1, 8)
    assert CAL.day_name(date(2027, 1, 1)) == "元旦（暂定）"


def test_add_working_days_counts_from_a_rest_day_itself():
    # domain.md §6: the library's find_workday gives Tue 03-10 from Sat 03-07; the rule gives Mon 03-09.
    assert CAL.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)
    assert CAL.add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)


def test_add_zero_and_negative():
    assert CAL.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 10, 3), -1)


def test_next_workday_and_between():
    assert CAL.next_workday(date(2026, 10, 1)) == date(2026, 10, 8)
    assert CAL.next_workday(date(2026, 2, 14)) == date(2026, 2, 14)  # a make-up Saturday
    # (2026-02-12, 2026-02-24]: 02-13 Fri, 02-14 make-up Sat, 02-24 Tue.
    assert CAL.working_days_between(date(2026, 2, 12), date(2026, 2, 24)) == 3
    assert CAL.working_days_between(date(2026, 2, 24), date(2026, 2, 12)) == 0
    assert CAL.working_days_between(date(2026, 2, 24), date(2026, 2, 24)) == 0


def test_the_calendar_code_never_reads_the_clock_nor_calls_find_workday():
    root = Path(__file__).resolve().parents[3]
    files = [*sorted((root / "flowengine" / "calendar").glob("*.py")),
             root / "flowengine" / "cli" / "calendar_cmd.py"]
    banned = re.compile(r"datetime\.now|date\.today|time\.time\(|utcnow|find_workday\(")
    for path in files:
        code = path.read_text(encoding="utf-8")
        assert not banned.search(code), path
