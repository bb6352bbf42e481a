"""The case data codec: typed values and user dicts that look like tags survive the round
trip, whether they sit at the top level, in a list of plain values or deeper."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from flowengine.records.case import Actor, Case, Deadline
from flowengine.records.lifecycle import DeadlineStatus
from flowengine.store import codec
from flowengine.store.codec import (
    case_values,
    decode_case,
    dump_data,
    dump_deadlines,
    load_data,
    load_deadlines,
    provisional_from,
)

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


def test_cases_read_share_owner_and_due_day_and_equal_the_keyword_call() -> None:
    """The rows of one tick's page were mostly started by a few receivers and come due on
    a few days: two such rows decode to one `Actor` and one due instant and date (immutable,
    read once), and each to what `Case(...)` of the same values is, with data, deadlines and
    lists of its own."""
    due = datetime(2026, 5, 13, 23, 59, 59, 999999, tzinfo=CST)
    running = replace(_deadline(), status="open", due=due, paused_on=None)
    rows = []
    for case_id in ("A-1", "A-2"):
        case = Case(id=case_id, process_id="p", digest="d", state="s",
                    data={"amount": Decimal("35000"), "names": ["a"]},
                    deadlines={"answer": replace(running, pauses=list(running.pauses),
                                                 granted=list(running.granted))},
                    seq=3, last_hash="h", created_at=datetime(2026, 5, 4, 1, 0, tzinfo=UTC),
                    updated_at=datetime(2026, 5, 5, 1, 0, tzinfo=UTC),
                    owner=Actor("王芳", "reception"))
        rows.append((case, case_values(case, False)))
    (first, row1), (second, row2) = rows
    a, b = decode_case(row1), decode_case(row2)
    assert (a, b) == (first, second)
    assert a.owner is b.owner and a.owner == Actor("王芳", "reception")
    da, db = a.deadlines["answer"], b.deadlines["answer"]
    assert da.due is db.due and da.due_date is db.due_date and da.due == due
    da.pauses.append((date(2026, 5, 9), date(2026, 5, 10)))
    da.granted.append(1)
    a.data["names"].append("b")
    assert db == running and b.data == {"amount": Decimal("35000"), "names": ["a"]}


@pytest.mark.parametrize("second", [
    None, ("overdue", True, False, ()), ("overdue", False, False, (2027,)),
    ("expired", True, False, ()), ("met", True, True, (2026,)), ("paused", True, False, (2027,)),
    ("open", True, False, (2028, 2027)), ("cancelled", True, False, (2025,))])
def test_a_case_rows_deadline_columns_are_the_cases_own_answers(
        second: tuple[DeadlineStatus, bool, bool, tuple[int, ...]] | None) -> None:
    """The row's `overdue`, `late`, `next_timer_at` and `provisional_from` (worked out in
    one pass over the deadlines) are what the case and `provisional_from` answer."""
    first = replace(_deadline(), status="open", due=datetime(2026, 5, 13, 9, 0, tzinfo=CST),
                    paused_on=None, provisional=(2027,))
    deadlines = {"answer": first}
    if second is not None:
        status, marked, late, years = second
        deadlines["reply"] = replace(
            first, name="reply", status=status, marked=marked, late=late, provisional=years,
            due=datetime(2026, 5, 12, 9, 0, tzinfo=CST), warn_at=None, pauses=[], granted=[])
    case = Case(id="A-1", process_id="p", digest="d", state="s", data={}, deadlines=deadlines)
    row = case_values(case, False)
    assert (row["overdue"], row["late"], row["next_timer_at"], row["provisional_from"]) == (
        case.overdue, case.late, case.next_timer(), provisional_from(case))


def test_a_memo_makes_each_value_once_and_starts_again_when_full() -> None:
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    memo = codec._Memo(make, limit=2)
    assert (memo["a"], memo["a"], memo["b"]) == ("A", "A", "B")
    assert made == ["a", "b"]
    assert memo["c"] == "C" and dict(memo) == {"c": "C"}  # full: cleared, then kept
    assert memo["a"] == "A" and made == ["a", "b", "c", "a"]
