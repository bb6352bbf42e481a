"""Period rules of domain.md Part A, pinned one by one; the §4.6 worked vectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flowengine.calendar import (
    due_date,
    end_of_day,
    explain_due,
    local_date,
    national_calendar,
)
from flowengine.errors import CalendarYearMissing

CAL = national_calendar()
SHANGHAI = ZoneInfo("Asia/Shanghai")
D = date.fromisoformat

# domain.md §4.6: (start, amount, unit, nominal last day or None, due)
VECTORS = [
    ("2026-01-05", 60, "days", "2026-03-06", "2026-03-06"),
    ("2025-12-02", 60, "days", "2026-01-31", "2026-02-02"),
    ("2026-08-03", 60, "days", "2026-10-02", "2026-10-08"),
    ("2026-09-01", 30, "days", "2026-10-01", "2026-10-08"),
    ("2026-02-01", 15, "days", "2026-02-16", "2026-02-24"),
    ("2026-04-05", 30, "days", "2026-05-05", "2026-05-06"),
    ("2026-01-29", 30, "days", "2026-02-28", "2026-02-28"),
    ("2026-02-12", 3, "working_days", None, "2026-02-24"),
    ("2026-02-13", 1, "working_days", None, "2026-02-14"),
    ("2026-02-10", 10, "working_days", None, "2026-03-02"),
    ("2026-09-18", 3, "working_days", None, "2026-09-22"),
    ("2025-09-26", 7, "working_days", None, "2025-10-13"),
    ("2026-02-09", 30, "working_days", None, "2026-03-27"),
]


@pytest.mark.parametrize(("start", "amount", "unit", "nominal", "due"), VECTORS)
def test_worked_vectors(start, amount, unit, nominal, due):
    assert due_date(CAL, D(start), amount, unit) == D(due)
    why = explain_due(CAL, D(start), amount, unit)
    assert why.due == D(due)
    assert why.nominal == D(nominal or due)


def test_worked_vector_into_2027_is_provisional():
    why = explain_due(CAL, D("2026-12-24"), 10, "working_days")
    assert (why.due, why.provisional) == (D("2027-01-08"), (2027,))
    assert explain_due(CAL, D("2026-11-10"), 60, "days").due == D("2027-01-11")
    assert explain_due(CAL, D("2026-08-03"), 60, "days").provisional == ()


def test_a_period_past_the_provisional_range_is_refused():
    with pytest.raises(CalendarYearMissing) as info:
        due_date(CAL, D("2100-12-24"), 10, "working_days")
    assert info.value.year == 2101
    assert "cn-2101.yaml" in str(info.value)


# -- day periods -----------------------------------------------------------------------


def test_the_start_day_is_not_counted():
    assert due_date(CAL, D("2026-01-05"), 1, "days") == D("2026-01-06")


def test_rolled_reason_names_the_holiday():
    why = explain_due(CAL, D("2026-08-03"), 60, "days")
    assert why.reasons == ["2026-10-02 is 国庆节; rolled to 2026-10-08"]


def test_rolled_reason_names_an_ordinary_weekend():
    why = explain_due(CAL, D("2025-12-02"), 60, "days")
    assert why.reasons == ["2026-01-31 is a Saturday; rolled to 2026-02-02"]


def test_a_make_up_saturday_does_not_roll_and_says_why():
    why = explain_due(CAL, D("2026-01-29"), 30, "days")
    assert why.due == D("2026-02-28")
    assert why.reasons == ["2026-02-28 is 调休上班 (春节), a working day; not rolled"]


def test_roll_forward_off_keeps_the_nominal_day():
    assert due_date(CAL, D("2026-08-03"), 60, "days", roll_forward=False) == D("2026-10-02")
    why = explain_due(CAL, D("2026-08-03"), 60, "days", roll_forward=False)
    assert why.reasons == ["2026-10-02 is 国庆节; not rolled (roll-forward is off)"]


def test_an_extension_is_added_to_the_nominal_day_before_the_roll():
    # 2025-12-02 + 60 days: nominal Sat 2026-01-31, rolled to Mon 02-02. A 2-day extension
    # extends the nominal day to 02-02 (a working day) -> 02-02. Adding it to the rolled
    # date instead would give 02-04.
    assert due_date(CAL, D("2025-12-02"), 60 + 2, "days") == D("2026-02-02")
    # 2026-08-03 + 60 + 3 = 10-05, still in the National Day break -> 10-08.
    assert due_date(CAL, D("2026-08-03"), 63, "days") == D("2026-10-08")


def test_a_start_on_a_rest_day_counts_from_that_day():
    # Option (a): no normalisation to the next working day.
    assert due_date(CAL, D("2026-10-03"), 5, "days") == D("2026-10-08")
    assert due_date(CAL, D("2026-03-07"), 1, "working_days") == D("2026-03-09")
    assert due_date(CAL, D("2026-10-03"), 1, "working_days") == D("2026-10-08")


def test_zero_amounts():
    assert due_date(CAL, D("2026-10-03"), 0, "days") == D("2026-10-08")
    assert due_date(CAL, D("2026-10-03"), 0, "working_days") == D("2026-10-03")


# -- working-day periods ---------------------------------------------------------------


def test_working_day_reasons_list_make_up_days_and_skipped_holidays():
    why = explain_due(CAL, D("2026-02-12"), 3, "working_days")
    assert why.reasons == [
        "2026-02-14 is 调休上班 (春节); counted as a working day",
        "2026-02-15 to 2026-02-23 are 春节; skipped",
    ]


# -- pauses ----------------------------------------------------------------------------


def test_a_pause_in_a_day_period_moves_the_nominal_day_then_rolls():
    # 03-02 + 30 = 04-01; the pause removes 03-10..03-19 (10 days): 04-11, a Saturday,
    # rolled to Mon 04-13 (清明 is 04-04..04-06, §5).
    start, pause = D("2026-03-02"), (D("2026-03-10"), D("2026-03-20"))
    assert due_date(CAL, start, 30, "days", pauses=[pause]) == D("2026-04-13")
    why = explain_due(CAL, start, 30, "days", pauses=[pause])
    assert why.nominal == D("2026-04-11")
    assert why.reasons == [
        "paused from 2026-03-10 until 2026-03-20: 10 days not counted",
        "2026-04-11 is a Saturday; rolled to 2026-04-13",
    ]


def test_a_pause_in_a_working_day_period_removes_only_working_days():
    # §4.6: 2026-02-09 + 30 working days = 03-27. The pause 03-02..03-08 holds 5 working
    # days (03-07/08 are a weekend), so 5 more: 03-30, 03-31, 04-01, 04-02, 04-03.
    start, pause = D("2026-02-09"), (D("2026-03-02"), D("2026-03-09"))
    assert due_date(CAL, start, 30, "working_days", pauses=[pause]) == D("2026-04-03")
    why = explain_due(CAL, start, 30, "working_days", pauses=[pause])
    assert why.reasons[0] == "paused from 2026-03-02 until 2026-03-09: 5 working days not counted"


def test_a_pause_over_the_start_only_removes_days_after_it():
    # (2026-02-01, 2026-02-12) with start 02-09 removes 02-10 and 02-11 only.
    start = D("2026-02-09")
    paused = due_date(CAL, start, 30, "working_days", pauses=[(D("2026-02-01"), D("2026-02-12"))])
    assert paused == CAL.add_working_days(D("2026-03-27"), 2)


def test_pauses_outside_the_period_change_nothing_even_in_uncovered_years():
    start = D("2026-02-09")
    before = [(D("2026-01-01"), D("2026-02-09"))]
    after = [(D("2026-03-28"), D("2026-04-30")), (D("2027-01-05"), D("2027-02-01"))]
    for pauses in (before, after, [(D("2026-03-02"), D("2026-03-02"))]):
        assert due_date(CAL, start, 30, "working_days", pauses=pauses) == D("2026-03-27")


def test_overlapping_pauses_count_each_day_once():
    start = D("2026-02-09")
    split = [(D("2026-03-04"), D("2026-03-09")), (D("2026-03-02"), D("2026-03-05"))]
    whole = [(D("2026-03-02"), D("2026-03-09"))]
    for unit in ("days", "working_days"):
        assert due_date(CAL, start, 30, unit, pauses=split) == due_date(
            CAL, start, 30, unit, pauses=whole)


def test_a_pause_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        due_date(CAL, D("2026-02-09"), 30, "days", pauses=[(D("2026-03-09"), D("2026-03-02"))])


# -- refusals and bad arguments --------------------------------------------------------


@pytest.mark.parametrize("roll", [True, False])
def test_a_day_period_reaching_2101_is_refused_even_without_rolling(roll):
    with pytest.raises(CalendarYearMissing):
        due_date(CAL, D("2100-12-20"), 20, "days", roll_forward=roll)
    with pytest.raises(CalendarYearMissing):
        explain_due(CAL, D("2100-12-20"), 20, "days", roll_forward=roll)


def test_a_start_in_an_uncovered_year_is_refused():
    for unit in ("days", "working_days"):
        with pytest.raises(CalendarYearMissing):
            due_date(CAL, D("2003-12-30"), 10, unit)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unit"):
        due_date(CAL, D("2026-01-05"), 2, "hours")  # type: ignore[arg-type]  # refused
    with pytest.raises(ValueError, match="negative"):
        due_date(CAL, D("2026-01-05"), -1, "days")
    with pytest.raises(TypeError, match="local_date"):
        due_date(CAL, datetime(2026, 1, 5, 9, tzinfo=SHANGHAI), 2, "days")


# -- instants --------------------------------------------------------------------------


def test_due_at_the_end_of_the_last_local_day():
    instant = end_of_day(D("2026-10-08"), SHANGHAI)
    assert instant.isoformat() == "2026-10-09T00:00:00+08:00"
    assert instant.utcoffset() == timedelta(hours=8)
    assert local_date(instant - timedelta(microseconds=1), SHANGHAI) == D("2026-10-08")
    assert local_date(instant, SHANGHAI) == D("2026-10-09")


def test_local_date_uses_the_zone_not_utc():
    late_utc = datetime(2026, 10, 8, 16, 30, tzinfo=UTC)  # 00:30 on the 9th in Shanghai
    assert local_date(late_utc, SHANGHAI) == D("2026-10-09")
    assert local_date(late_utc, ZoneInfo("Europe/Paris")) == D("2026-10-08")


def test_end_of_day_in_another_zone():
    instant = end_of_day(D("2026-03-28"), ZoneInfo("Europe/Paris"))  # DST starts 03-29 02:00
    assert instant.isoformat() == "2026-03-29T00:00:00+01:00"


def test_local_date_refuses_naive_instants():
    with pytest.raises(ValueError):
        local_date(datetime(2026, 10, 8, 12), SHANGHAI)
