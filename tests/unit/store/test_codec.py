"""The case data codec: typed values and user dicts that look like tags survive the round
trip, whether they sit at the top level, in a list of plain values or deeper."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from flowengine.records.case import Deadline
from flowengine.store.codec import dump_data, dump_deadlines, load_data, load_deadlines

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


def _deadline() -> Deadline:
    return Deadline(
        name="answer", status="paused", started_at=datetime(2026, 5, 4, 9, 0, tzinfo=CST),
        start_date=date(2026, 5, 4), due=None, due_date=date(2026, 5, 13),
        unit="working_days", amount=7, extended=3, extensions=1, granted=[3],
        provisional=(2027,), pauses=[(date(2026, 5, 6), date(2026, 5, 7))],
        paused_on=date(2026, 5, 8), warn_at=datetime(2026, 5, 12, 9, 0, tzinfo=CST))


def test_deadlines_read_back_equal_typed_and_written_again_the_same() -> None:
    """A row as `dump_deadlines` writes it (every field, in order) is read back without
    `Deadline`'s keyword call: the deadline is the same, field for field and type for type,
    and writes the same text again."""
    text = dump_deadlines({"answer": _deadline()})
    back = load_deadlines(text)["answer"]
    assert back == _deadline()
    assert {k: type(v) for k, v in back.__dict__.items()} == {
        k: type(v) for k, v in _deadline().__dict__.items()}
    assert dump_deadlines({"answer": back}) == text
    back.pauses.append((date(2026, 5, 9), date(2026, 5, 10)))  # its own lists
    assert load_deadlines(text)["answer"].pauses == _deadline().pauses


def test_an_older_deadline_row_gets_the_defaults_and_an_unknown_field_is_refused() -> None:
    doc = json.loads(dump_deadlines({"answer": _deadline()}))[0]
    older = {k: v for k, v in doc.items() if k != "provisional"}  # before provisional years
    assert load_deadlines(json.dumps([older]))["answer"].provisional == ()
    reordered = dict(reversed(list(doc.items())))
    assert load_deadlines(json.dumps([reordered]))["answer"] == _deadline()
    assert list(load_deadlines(json.dumps([reordered]))["answer"].__dict__) == list(doc)
    with pytest.raises(TypeError, match="tampered"):
        load_deadlines(json.dumps([{**doc, "tampered": 1}]))
