"""The named functions: one example per behaviour, time from the env, never the wall clock.

NOW (see _support) is 2024-03-01 01:00 UTC, a Friday, which is already 09:00 that day in
Shanghai; the weekends-only calendar stands in for the national calendar.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowengine.expr import FUNCTIONS, ExprError, ExprEvalError, SimpleEnv, compile_expr
from tests.support.expr import NAMES, NOW, env

DOCS = Path(__file__).resolve().parents[3] / "docs" / "expressions.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def run(text: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expr(text, NAMES).evaluate(env(data, **kwargs))


def eval_error(text: str, data: dict[str, Any] | None = None, **kwargs: Any) -> str:
    with pytest.raises(ExprEvalError) as info:
        run(text, data, **kwargs)
    assert info.value.__cause__ is None
    return info.value.message


def test_has_signed() -> None:
    assert run("has_signed('principal')", signatures=["clerk", "principal"]) is True
    assert run("has_signed('principal')", signatures=[]) is False
    assert "the role must be text" in eval_error("has_signed(claim_amount)",
                                                 {"claim_amount": 1})


def test_today_is_the_local_date_in_the_process_time_zone() -> None:
    late_utc = datetime(2024, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai
    assert run("today()", now=late_utc) == date(2024, 3, 2)
    assert run("today()", now=late_utc, tz=timezone(timedelta(hours=-5))) == date(2024, 3, 1)


def test_now_is_the_instant_of_the_fire() -> None:
    assert run("now()") == NOW
    assert run("now() > served_on", {"served_on": NOW - timedelta(seconds=1)}) is True


@pytest.mark.parametrize(("value", "days"), [
    (date(2024, 2, 1), 29),  # 2024 is a leap year
    (date(2024, 3, 1), 0),
    (date(2024, 3, 5), -4),
    (datetime(2024, 2, 29, 16, 30, tzinfo=UTC), 0),  # 00:30 on 1 March in Shanghai
    (datetime(2024, 2, 29, 15, 30, tzinfo=UTC), 1),  # 23:30 on 29 February in Shanghai
    ("2024-02-01", 29),
    ("2024-02-29T16:30:00+00:00", 0),
])
def test_days_since(value: Any, days: int) -> None:
    assert run("days_since(received_on)", {"received_on": value}) == days


@pytest.mark.parametrize(("value", "fragment"), [
    (None, "days_since(received_on): expected a date or datetime, got not set"),
    (datetime(2024, 2, 1), "has no time zone"),
    ("1 February", "not an ISO date"),
    (5, "expected a date or datetime, got the number 5"),
])
def test_days_since_errors(value: Any, fragment: str) -> None:
    assert fragment in eval_error("days_since(received_on)", {"received_on": value})


@pytest.mark.parametrize(("received", "count"), [
    (date(2024, 3, 1), 0),  # same day: (a, b] is empty
    (date(2024, 2, 29), 1),  # Thursday -> Friday
    (date(2024, 2, 23), 5),  # a Friday a week earlier: Mon-Fri counted
    (date(2024, 2, 24), 5),  # from a Saturday
    (date(2024, 2, 20), 8),
    (date(2024, 3, 4), 0),  # in the future: nothing has passed
])
def test_working_days_since(received: date, count: int) -> None:
    assert run("working_days_since(received_on)", {"received_on": received}) == count
    guard = "working_days_since(received_on) <= 7"
    assert run(guard, {"received_on": received}) is (count <= 7)


def test_working_days_need_a_calendar() -> None:
    assert "no working-day calendar" in eval_error(
        "working_days_since(received_on)", {"received_on": date(2024, 2, 1)}, calendar=None)


@pytest.mark.parametrize(("start", "period", "inside"), [
    (date(2024, 1, 31), "30 days", True),  # last day 1 March (Friday)
    (date(2024, 1, 30), "30 days", False),  # last day 29 February
    (date(2024, 2, 1), "29 days", True),
    (date(2024, 1, 29), "30 days", False),  # last day 28 February
    (date(2024, 2, 1), "29 day", True),
])
def test_within_calendar_days(start: date, period: str, inside: bool) -> None:
    assert run(f"within(replied_on, '{period}')", {"replied_on": start}) is inside


def test_within_rolls_a_rest_day_forward_to_the_next_working_day() -> None:
    # 30 days after 2024-01-25 is Saturday 24 February; the period runs to Monday 26.
    data = {"replied_on": date(2024, 1, 25)}
    monday = datetime(2024, 2, 26, 8, tzinfo=UTC)
    tuesday = monday + timedelta(days=1)
    assert run("within(replied_on, '30 days')", data, now=monday) is True
    assert run("within(replied_on, '30 days')", data, now=tuesday) is False


def test_within_working_days() -> None:
    # The 5th working day after Friday 23 February is Friday 1 March (today).
    assert run("within(received_on, '5 working days')", {"received_on": date(2024, 2, 23)})
    assert not run("within(received_on, '4 working days')", {"received_on": date(2024, 2, 23)})


def test_within_years_ends_on_the_corresponding_day() -> None:
    # 3 years from 2021-03-01 end on Friday 2024-03-01 (today); from 02-28 they have ended.
    assert run("within(received_on, '3 years')", {"received_on": date(2021, 3, 1)}) is True
    assert run("not within(received_on, '3 years')", {"received_on": date(2021, 2, 28)}) is True
    assert run("within(received_on, '1 year')", {"received_on": date(2023, 3, 1)}) is True


def test_within_years_rolls_a_rest_day_and_has_no_29_february() -> None:
    # 3 years from 2021-02-24 end on Saturday 2024-02-24, rolled to Monday 26.
    data = {"received_on": date(2021, 2, 24)}
    monday = datetime(2024, 2, 26, 8, tzinfo=UTC)
    assert run("within(received_on, '3 years')", data, now=monday) is True
    assert run("within(received_on, '3 years')", data, now=monday + timedelta(days=1)) is False
    # 1 year from 29 February 2024 ends on the last day of February 2025 (a Friday).
    leap = {"received_on": date(2024, 2, 29)}
    friday = datetime(2025, 2, 28, 8, tzinfo=UTC)
    assert run("within(received_on, '1 year')", leap, now=friday) is True
    assert run("within(received_on, '1 year')", leap, now=friday + timedelta(days=1)) is False


def test_within_years_past_the_last_date_is_an_evaluation_error() -> None:
    assert "run past the last date" in eval_error("within(received_on, '9999 years')",
                                                  {"received_on": date(2024, 3, 1)})


def test_within_takes_the_first_date_that_is_set() -> None:
    text = "within(coalesce(served_on, replied_on), '30 days')"
    assert run(text, {"replied_on": date(2024, 2, 10)}) is True
    assert run(text, {"served_on": date(2024, 1, 1), "replied_on": date(2024, 2, 10)}) is False


def test_within_refuses_a_bad_period_at_load() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("within(replied_on, '30 dayz')", NAMES)
    assert "expected a period such as '30 days'" in info.value.message
    assert info.value.col == 20


@pytest.mark.parametrize(("text", "data", "value"), [
    ("len(resolution_team)", {"resolution_team": ["a", "b"]}, 2),
    ("len(resolution_team) > 0", {"resolution_team": []}, False),
    ("len(subject)", {"subject": "信访事项"}, 4),
    ("len('abc')", {}, 3),
])
def test_len(text: str, data: dict[str, Any], value: Any) -> None:
    assert run(text, data) == value


def test_len_of_an_unset_field_says_so() -> None:
    message = eval_error("len(resolution_team) > 0", {})
    assert message == "len(resolution_team): expected text or a list, got not set"


@pytest.mark.parametrize(("data", "value"), [
    ({"served_on": date(2024, 1, 1), "replied_on": date(2024, 1, 2)}, date(2024, 1, 1)),
    ({"replied_on": date(2024, 1, 2)}, date(2024, 1, 2)),
    ({}, None),
])
def test_coalesce(data: dict[str, Any], value: Any) -> None:
    assert run("coalesce(served_on, replied_on)", data) == value


def test_coalesce_keeps_falsy_values_that_are_set() -> None:
    assert run("coalesce(claim_amount, 5)", {"claim_amount": 0}) == 0
    assert run("coalesce(subject, 'x')", {"subject": ""}) == ""


@pytest.mark.parametrize(("value", "expected"), [
    (None, False), ("", False), ("   ", False), ([], False),
    ("x", True), (["a"], True), (0, True), (False, True), (date(2024, 1, 1), True),
])
def test_is_set(value: Any, expected: bool) -> None:
    data = {} if value is None else {"subject": value}
    assert run("is_set(subject)", data) is expected


def test_date() -> None:
    assert run("date('2024-02-29')") == date(2024, 2, 29)
    assert run("received_on >= date('2024-01-01')", {"received_on": date(2024, 1, 1)})
    assert run("date(subject)", {"subject": "2024-03-01"}) == date(2024, 3, 1)


@pytest.mark.parametrize("literal", ["2023-02-29", "2024-13-01", "2024/01/01", "20240101",
                                     "2024-W01-1", "yesterday"])
def test_a_bad_date_literal_is_refused_at_load(literal: str) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(f"received_on > date('{literal}')", NAMES)
    assert info.value.col == 15


def test_a_bad_date_in_the_data_is_an_eval_error() -> None:
    assert "date(subject):" in eval_error("date(subject)", {"subject": "soon"})


def test_simple_env_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimpleEnv(now=datetime(2024, 3, 1))


def test_simple_env_defaults_to_the_shanghai_time_zone() -> None:
    assert SimpleEnv(now=NOW).tz == SHANGHAI


def test_every_function_has_a_doc_line_and_a_section_in_the_docs() -> None:
    documented = set(re.findall(r"^### `(\w+)\(", DOCS.read_text(encoding="utf-8"), re.M))
    assert documented == set(FUNCTIONS)
    for name, function in FUNCTIONS.items():
        assert function.name == name
        assert function.doc
        assert 0 <= function.min_args <= function.max_args


def test_the_expression_modules_never_read_the_wall_clock() -> None:
    package = Path(__file__).resolve().parents[3] / "flowengine" / "expr"
    banned = re.compile(r"datetime\.now|date\.today|time\.time|utcnow|time\.monotonic")
    for path in package.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not banned.search(line.split("#")[0]), f"{path.name}: {line}"
