"""Calendar files: reading, refusing malformed ones with FILE:LINE:COL, layering, caching."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flowengine.calendar import (
    Calendar,
    CalendarLayer,
    LayeredCalendar,
    build_calendar,
    due_date,
    load_calendar_file,
    national_calendar,
)
from flowengine.errors import CalendarFileError, CalendarYearMissing

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "calendars" / "cn-2027.yaml"

# A made-up full-year file: only 元旦 off. Not the 2027 arrangement (not published yet).
FAKE_2027 = """\
name: test 2027 (made up)
covers: [2027]
holidays:
  - {date: 2027-01-01, name: 元旦}
  - {from: 2027-02-06, to: 2027-02-12, name: 春节}
workdays:
  - {date: 2027-02-14, name: 春节调休上班}
"""

CITY = """\
name: 某市地方假日
holidays:
  - {date: 2026-03-09, name: 市庆日}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- reading ---------------------------------------------------------------------------


def test_reads_dates_ranges_names_and_covers(tmp_path):
    layer = load_calendar_file(write(tmp_path, "y.yaml", FAKE_2027))
    assert layer.name == "test 2027 (made up)"
    assert layer.covers == frozenset({2027})
    assert layer.holidays[date(2027, 1, 1)] == "元旦"
    assert [d.day for d in layer.holidays if d.month == 2] == [6, 7, 8, 9, 10, 11, 12]
    assert layer.workdays == {date(2027, 2, 14): "春节调休上班"}
    assert layer.mentioned_years == frozenset({2027})


def test_quoted_dates_and_an_empty_file_are_accepted(tmp_path):
    quoted = 'holidays: [{date: "2026-03-09", name: x}]'
    layer = load_calendar_file(write(tmp_path, "q.yaml", quoted))
    assert layer.holidays == {date(2026, 3, 9): "x"}
    empty = load_calendar_file(write(tmp_path, "empty.yaml", "# nothing yet\n"))
    assert (empty.name, empty.covers, empty.holidays, empty.workdays) == (
        "empty.yaml", frozenset(), {}, {})


def test_the_shipped_2027_template_loads_and_leaves_2027_provisional():
    layer = load_calendar_file(str(TEMPLATE))
    assert layer.covers == frozenset()
    assert not layer.holidays and not layer.workdays
    cal = build_calendar([str(TEMPLATE)])
    assert cal.covers(2027) and cal.provisional(2027)
    assert due_date(cal, date(2026, 12, 24), 10, "working_days") == date(2027, 1, 8)


BAD_FILES = [
    ("holiday:\n  - {date: 2027-01-01, name: x}\n", "1:1: unknown key 'holiday'", "'holidays'"),
    ("covers: 2027\n", "1:9: 'covers' must be a list", ""),
    ("covers: [twenty]\n", "1:10: 'twenty' is not a year", ""),
    ("covers: [99999]\n", "1:10: year 99999 is outside", ""),
    ("holidays:\n  - {date: 2027-02-30, name: x}\n", ":2:", "2027-02-30"),
    ("holidays:\n  - {date: 2027-01-01}\n", "2:5: each entry needs a 'name'", ""),
    ("holidays:\n  - {from: 2027-02-12, to: 2027-02-06, name: x}\n", "2:28: 'to'", "on or after"),
    ("holidays:\n  - {from: 2027-02-12, name: x}\n", "2:5: an entry needs 'date'", ""),
    ("holidays:\n  - {date: 2027-01-01, from: 2027-01-01, to: 2027-01-02, name: x}\n",
     "2:5: write either", ""),
    ("holidays:\n  - {date: 2027-01-01, name: x, form: y}\n", "2:33: unknown key 'form'",
     "did you mean 'from'"),
    ("holidays:\n  - {date: 2027-1-1, name: x}\n", "2:12: 'date' must be a date", ""),
    ("holidays:\n  - {date: 2027-01-01 10:00:00, name: x}\n", "2:12: 'date' must be a date", ""),
    ("holidays:\n  - 2027-01-01\n", "2:5: an entry must be", ""),
    ("holidays: {date: 2027-01-01, name: x}\n", "1:11: 'holidays' must be a list", ""),
    ("holidays:\n  - {date: 2027-01-01, name: a}\n"
     "  - {from: 2026-12-31, to: 2027-01-02, name: b}\n",
     "3:5: 2027-01-01 is listed twice", "first at line 2"),
    ("holidays:\n  - {date: 2027-01-01, name: a}\nworkdays:\n  - {date: 2027-01-01, name: b}\n",
     "4:5: 2027-01-01 is both a holiday (line 2)", ""),
    ("- just\n- a list\n", "1:1: the file must be a mapping", ""),
    ("holidays: [\n", "YAML syntax", ""),
    ("name: ''\n", "1:7: 'name' must be", ""),
]


@pytest.mark.parametrize(("text", "where_what", "hint"), BAD_FILES)
def test_malformed_files_are_refused_with_file_line_col(tmp_path, text, where_what, hint):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(CalendarFileError) as info:
        load_calendar_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert where_what in message
    assert hint in message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    path = write(tmp_path, "bad.yaml", "covers: [x]\nholidays:\n  - {date: 2027-01-01}\n")
    with pytest.raises(CalendarFileError) as info:
        load_calendar_file(path)
    assert str(info.value).count(path) == 2


def test_a_missing_file_is_a_calendar_file_error(tmp_path):
    with pytest.raises(CalendarFileError, match="cannot read"):
        load_calendar_file(str(tmp_path / "nope.yaml"))
    with pytest.raises(CalendarFileError, match="cannot read"):
        build_calendar([str(tmp_path / "nope.yaml")])


# -- layering --------------------------------------------------------------------------


def test_a_full_year_file_makes_2027_official(tmp_path):
    cal = build_calendar([write(tmp_path, "y.yaml", FAKE_2027)])
    assert cal.covers(2027) and cal.covers(2026)
    assert not cal.provisional(2027) and cal.provisional(2028)
    assert cal.is_workday(date(2027, 1, 1)) is False
    assert cal.is_workday(date(2027, 1, 2)) is False  # a plain Saturday
    assert cal.is_workday(date(2027, 2, 14)) is True  # a listed make-up Sunday
    assert cal.day_name(date(2027, 2, 8)) == "春节"
    # 12-25, 28, 29, 30, 31 in 2026, then 2027-01-04 … 01-08 (01-01 off, 01-02/03 a
    # weekend) under this made-up file.
    assert due_date(cal, date(2026, 12, 24), 10, "working_days") == date(2027, 1, 8)
    # The file's make-up Sunday counts: the provisional rule alone has no 调休.
    assert cal.is_workday(date(2027, 2, 14)) and not national_calendar().is_workday(date(2027, 2, 14))


def test_a_city_holiday_overrides_a_national_working_day(tmp_path):
    cal = build_calendar([write(tmp_path, "city.yaml", CITY)])
    national = national_calendar()
    assert national.is_workday(date(2026, 3, 9)) is True
    assert cal.is_workday(date(2026, 3, 9)) is False
    assert cal.day_name(date(2026, 3, 9)) == "市庆日"
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 10)
    # A day period ending on the city's holiday rolls past it: 2026-02-07 + 30 = 03-09.
    assert due_date(national, date(2026, 2, 7), 30, "days") == date(2026, 3, 9)
    assert due_date(cal, date(2026, 2, 7), 30, "days") == date(2026, 3, 10)
    # Everything else is the national calendar.
    assert cal.is_workday(date(2026, 10, 2)) is False
    assert cal.day_name(date(2026, 2, 14)) == "调休上班 (春节)"


def test_later_files_win(tmp_path):
    holiday = write(tmp_path, "a.yaml", CITY)
    worked = write(tmp_path, "b.yaml", "workdays:\n  - {date: 2026-03-09, name: 照常上班}\n")
    assert build_calendar([holiday, worked]).is_workday(date(2026, 3, 9)) is True
    assert build_calendar([worked, holiday]).is_workday(date(2026, 3, 9)) is False


def test_a_working_day_override_on_a_national_holiday(tmp_path):
    path = write(tmp_path, "w.yaml", "workdays:\n  - {date: 2026-10-07, name: 值班}\n")
    cal = build_calendar([path])
    assert cal.is_workday(date(2026, 10, 7)) is True
    assert cal.next_workday(date(2026, 10, 1)) == date(2026, 10, 7)


def test_covers_replaces_the_national_arrangement_of_that_year(tmp_path):
    cal = build_calendar([write(tmp_path, "c.yaml", "covers: [2026]\n")])
    assert cal.is_workday(date(2026, 10, 1)) is True  # a Thursday, no holiday listed
    assert cal.is_workday(date(2026, 2, 14)) is False  # a Saturday, no make-up listed
    assert cal.is_workday(date(2025, 10, 1)) is False  # other years untouched


def test_days_in_an_uncovered_year_do_not_make_it_covered(tmp_path):
    path = write(tmp_path, "o.yaml", "holidays:\n  - {date: 2101-03-01, name: x}\n")
    cal = build_calendar([path])
    assert not cal.covers(2101)
    with pytest.raises(CalendarYearMissing):
        cal.is_workday(date(2101, 3, 1))


def test_days_in_a_provisional_year_apply_on_top_and_it_stays_provisional(tmp_path):
    path = write(tmp_path, "o.yaml", "holidays:\n  - {date: 2027-03-01, name: x}\n")
    cal = build_calendar([path])
    assert cal.provisional(2027)
    assert cal.is_workday(date(2027, 3, 1)) is False
    assert cal.is_workday(date(2027, 3, 2)) is True
    # … until a later file covers the year; earlier files' days are then replaced.
    full = write(tmp_path, "y.yaml", FAKE_2027)
    assert build_calendar([full, path]).is_workday(date(2027, 3, 1)) is False
    assert build_calendar([path, full]).is_workday(date(2027, 3, 1)) is True


def test_layering_over_any_calendar_object():
    class EveryDay:
        """A foreign Calendar: 2030 only, every day worked."""

        def covers(self, year):
            return year == 2030

        def is_workday(self, d):
            return True

        def day_name(self, d):
            return "named" if d == date(2030, 1, 1) else None

        next_workday = add_working_days = working_days_between = None

    layer = CalendarLayer("t", "<memory>", frozenset(), {date(2030, 1, 2): "off"}, {})
    cal = LayeredCalendar(EveryDay(), [layer])  # type: ignore[arg-type]  # partly a Calendar
    assert cal.years == (2030,)
    assert cal.add_working_days(date(2030, 1, 1), 1) == date(2030, 1, 3)
    assert cal.day_name(date(2030, 1, 1)) == "named"
    assert isinstance(cal, Calendar)


# -- sharing ---------------------------------------------------------------------------


def test_no_files_is_the_national_calendar():
    assert build_calendar() is national_calendar()
    assert build_calendar([]) is national_calendar()


def test_same_files_same_content_share_one_object(tmp_path, monkeypatch):
    path = write(tmp_path, "city.yaml", CITY)
    first = build_calendar([path])
    assert build_calendar([path]) is first
    monkeypatch.chdir(tmp_path)
    assert build_calendar(["city.yaml"]) is first  # the same file by another spelling


def test_an_edited_file_is_read_afresh(tmp_path):
    path = write(tmp_path, "city.yaml", CITY)
    before = build_calendar([path])
    write(tmp_path, "city.yaml", CITY.replace("2026-03-09", "2026-03-10"))
    after = build_calendar([path])
    assert after is not before
    assert after.is_workday(date(2026, 3, 9)) is True
    assert after.is_workday(date(2026, 3, 10)) is False


def test_order_is_part_of_the_key(tmp_path):
    a = write(tmp_path, "a.yaml", CITY)
    b = write(tmp_path, "b.yaml", "workdays:\n  - {date: 2026-03-09, name: w}\n")
    assert build_calendar([a, b]) is not build_calendar([b, a])
