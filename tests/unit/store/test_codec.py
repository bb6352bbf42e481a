"""The case data codec: typed values and user dicts that look like tags survive the round
trip, whether they sit at the top level, in a list of plain values or deeper."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from flowengine.store.codec import dump_data, load_data

CST = timezone(timedelta(hours=8))
CASES: list[dict[str, Any]] = [
    {"names": ["a", "b"], "n": 3, "ok": True, "none": None, "x": 1.5},
    {"amount": Decimal("35000.00"), "on": date(2026, 5, 4),
     "at": datetime(2026, 5, 4, 9, 0, tzinfo=CST)},
    {"list": ["a", Decimal("1.10"), date(2026, 1, 2)]},
    {"tagged": {"$dec": "not a number"}, "deep": [{"$date": "x"}], "mixed": [1, {"$map": 1}]},
    {"nested": [["a", {"$dt": "y"}], {"k": [Decimal("2")]}]},
    {"empty": [], "inner": {"a": []}},
]


@pytest.mark.parametrize("data", CASES)
def test_round_trip(data: dict[str, Any]) -> None:
    back = load_data(dump_data(data))
    assert back == data
    assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in data.items()}


def test_a_tuple_of_plain_values_is_written_as_a_list() -> None:
    assert dump_data({"t": ("a", 1)}) == dump_data({"t": ["a", 1]}) == '{"t":["a",1]}'


def test_a_list_of_plain_values_is_not_tagged() -> None:
    assert dump_data({"a": ["$dec", "x"]}) == '{"a":["$dec","x"]}'
    assert load_data('{"a":["$dec","x"]}') == {"a": ["$dec", "x"]}


def test_dump_leaves_the_callers_data_unchanged() -> None:
    data = {"tagged": {"$dec": "1"}, "names": ["a"]}
    dump_data(data)
    assert data == {"tagged": {"$dec": "1"}, "names": ["a"]}
