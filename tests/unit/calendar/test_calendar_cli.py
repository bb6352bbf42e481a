"""`flowengine calendar …` through click's CliRunner, and error mapping through `main`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cn_holiday_tables import DAYS_OFF, MAKEUP_DAYS, days

from flowengine.cli import _register, cli, main
from flowengine.errors import CalendarFileError, CalendarYearMissing

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = str(ROOT / "calendars" / "cn-2027.yaml")


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def run(runner: CliRunner, *args: str):
    return runner.invoke(cli, ["calendar", *args])


def run_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = run(runner, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # exactly one JSON document on stdout


def run_main(capsys, *args: str) -> tuple[int | str | None, str, str]:
    _register()
    with pytest.raises(SystemExit) as info:
        main(["calendar", *args])
    out, err = capsys.readouterr()
    return info.value.code, out, err


# -- add -------------------------------------------------------------------------------


def test_add_60_days_prints_the_due_date_and_the_reason(runner):
    result = run(runner, "add", "2026-08-03", "60 days")
    assert result.exit_code == 0
    assert "due 2026-10-08" in result.stdout
    assert "2026-10-02 is 国庆节; rolled to 2026-10-08" in result.stdout


def test_add_json(runner):
    doc = run_json(runner, "add", "2026-08-03", "60 days")
    assert doc["due"] == "2026-10-08"
    assert doc["nominal"] == "2026-10-02"
    assert doc["due_instant"] == "2026-10-09T00:00:00+08:00"
    assert doc["reasons"] == ["2026-10-02 is 国庆节; rolled to 2026-10-08"]


def test_add_working_days(runner):
    doc = run_json(runner, "add", "2025-09-26", "7 working days")
    assert (doc["unit"], doc["amount"], doc["due"]) == ("working_days", 7, "2025-10-13")


def test_add_options_no_roll_pause_timezone(runner):
    assert run_json(runner, "add", "2026-08-03", "60 days", "--no-roll")["due"] == "2026-10-02"
    doc = run_json(runner, "add", "2026-02-09", "30 working days",
                   "--pause", "2026-03-02..2026-03-09")
    assert doc["due"] == "2026-04-03"
    assert doc["pauses"] == [["2026-03-02", "2026-03-09"]]
    doc = run_json(runner, "add", "2026-08-03", "60 days", "--timezone", "Europe/Paris")
    assert doc["due_instant"] == "2026-10-09T00:00:00+02:00"


@pytest.mark.parametrize(("args", "message"), [
    (("2026-08-03", "10 hours"), "clock duration"),
    (("2026-08-03", "sixty days"), "not a duration"),
    (("2026-13-01", "1 day"), "not a date"),
    (("2026-08-03", "1 day", "--pause", "2026-03-02"), "FROM..TO"),
    (("2026-08-03", "1 day", "--pause", "2026-03-09..2026-03-02"), "ends before"),
    (("2026-08-03", "1 day", "--timezone", "Mars/Olympus"), "unknown time zone"),
])
def test_add_usage_errors_exit_2(runner, args, message):
    result = run(runner, "add", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_add_into_2027_is_answered_provisionally(runner):
    result = run(runner, "add", "2026-12-24", "10 working days")
    assert result.exit_code == 0
    assert "due 2027-01-08 (Friday) PROVISIONAL" in result.stdout
    assert "2027-01-01 is 元旦（暂定）; skipped" in result.stdout
    doc = json.loads(run(runner, "add", "2026-11-10", "60 days", "--json").stdout)
    assert (doc["due"], doc["provisional"], doc["provisional_years"]) == ("2027-01-11", True, [2027])
    inside = json.loads(run(runner, "add", "2026-08-03", "60 days", "--json").stdout)
    assert (inside["due"], inside["provisional"]) == ("2026-10-08", False)


def test_add_past_what_the_provisional_rule_computes_is_refused(runner, capsys):
    result = run(runner, "add", "2100-12-24", "10 working days")
    assert isinstance(result.exception, CalendarYearMissing)
    code, out, err = run_main(capsys, "add", "2100-12-24", "10 working days")
    assert code == 2
    assert out == ""
    assert "no calendar covers 2101" in err and "cn-2101.yaml" in err
    assert "Traceback" not in err


# -- is-workday ------------------------------------------------------------------------


def test_is_workday(runner):
    doc = run_json(runner, "is-workday", "2026-02-14")
    assert doc == {"date": "2026-02-14", "weekday": "Saturday", "workday": True,
                   "name": "调休上班 (春节)", "provisional": False}
    later = run_json(runner, "is-workday", "2027-02-05")
    assert (later["workday"], later["name"], later["provisional"]) == (False, "春节（暂定）", True)
    result = run(runner, "is-workday", "2026-10-02")
    assert result.exit_code == 0
    assert result.stdout.strip() == "2026-10-02 Friday: not a working day (国庆节)"
    assert run_json(runner, "is-workday", "2026-03-10")["name"] is None


def test_is_workday_with_a_city_file(runner, tmp_path):
    city = tmp_path / "city.yaml"
    city.write_text("holidays:\n  - {date: 2026-03-09, name: 市庆日}\n", encoding="utf-8")
    assert run_json(runner, "is-workday", "2026-03-09")["workday"] is True
    doc = run_json(runner, "is-workday", "2026-03-09", "--calendar", str(city))
    assert (doc["workday"], doc["name"]) == (False, "市庆日")


# -- list ------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_list_gives_exactly_the_notice_days(runner, year):
    doc = run_json(runner, "list", "--year", str(year))
    off = {str(d) for _, first, last in DAYS_OFF[year] for d in days(first, last)}
    makeup = {d for _, d in MAKEUP_DAYS[year]}
    assert {h["date"] for h in doc["holidays"]} == off
    assert {w["date"] for w in doc["workdays"]} == makeup


def test_list_text_groups_runs(runner):
    result = run(runner, "list", "--year", "2026")
    assert result.exit_code == 0
    assert "2026-02-15 – 2026-02-23  春节 (9 days)" in result.stdout
    assert "2026-02-28 Saturday  调休上班 (春节)" in result.stdout


def test_list_an_uncovered_year_is_refused(runner):
    assert isinstance(run(runner, "list", "--year", "2101").exception, CalendarYearMissing)


def test_list_a_provisional_year_shows_the_statutory_days(runner):
    result = run(runner, "list", "--year", "2027")
    assert result.exit_code == 0
    assert "PROVISIONAL" in result.stdout
    assert "2027-02-05 – 2027-02-08  春节（暂定） (4 days)" in result.stdout
    doc = json.loads(run(runner, "list", "--year", "2027", "--json").stdout)
    assert doc["provisional"] is True and doc["workdays"] == []
    assert len(doc["holidays"]) == 13


# -- check -----------------------------------------------------------------------------


def test_check_a_covered_year(runner):
    result = run(runner, "check", "--year", "2026")
    assert result.exit_code == 0
    assert "2026 is covered by chinese-calendar" in result.stdout


@pytest.mark.parametrize("files", [(), ("--calendar", TEMPLATE)])
def test_check_2027_says_it_is_provisional_and_which_file_to_fill(runner, files):
    result = run(runner, "check", "--year", "2027", *files)
    assert result.exit_code == 0
    assert "2027 is covered PROVISIONALLY" in result.stdout
    assert "calendars/cn-2027.yaml" in result.stdout
    doc = json.loads(run(runner, "check", "--year", "2027", "--json", *files).stdout)
    assert (doc["covered"], doc["provisional"], doc["missing_file"]) == (
        True, True, "calendars/cn-2027.yaml")
    assert run(runner, "check", "--year", "2027", "--official", *files).exit_code == 1


def test_check_exit_1_through_main(capsys):
    code, out, _ = run_main(capsys, "check", "--year", "2101")
    assert code == 1
    assert "2101 is not covered" in out and "calendars/cn-2101.yaml" in out


def test_check_notes_a_file_with_days_but_no_covers(runner, tmp_path):
    partial = tmp_path / "partial.yaml"
    partial.write_text("holidays:\n  - {date: 2027-01-01, name: 元旦}\n", encoding="utf-8")
    doc = json.loads(run(runner, "check", "--year", "2027", "--json",
                         "--calendar", str(partial)).stdout)
    assert (doc["covered"], doc["provisional"]) == (True, True)
    assert doc["notes"] and str(partial) in doc["notes"][0]


def test_check_a_filled_2027_file(runner, tmp_path):
    filled = tmp_path / "cn-2027.yaml"
    filled.write_text("covers: [2027]\nholidays:\n  - {date: 2027-01-01, name: 元旦}\n",
                      encoding="utf-8")
    result = run(runner, "check", "--year", "2027", "--calendar", str(filled))
    assert result.exit_code == 0
    assert str(filled) in result.stdout
    doc = run_json(runner, "add", "2026-12-24", "10 working days", "--calendar", str(filled))
    assert doc["due"] == str(date(2027, 1, 8))


def test_a_malformed_calendar_file_is_a_located_usage_error(runner, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("covers: [twenty]\n", encoding="utf-8")
    result = run(runner, "check", "--year", "2026", "--calendar", str(bad))
    assert isinstance(result.exception, CalendarFileError)
    code, _, err = run_main(capsys, "check", "--year", "2026", "--calendar", str(bad))
    assert code == 2
    assert f"{bad}:1:10:" in err
