"""Typed field values: what a field refuses is refused with its name and the value, before
anything is recorded (never a traceback from the encoder or the database)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from flowengine.definition.limits import INT_MAX, INT_MIN, NUMBER_TEXT_MAX
from flowengine.definition.model import FieldDef
from flowengine.engine.data import DataError, coerce


def _integer_field() -> FieldDef:
    return FieldDef(name="days", type="integer", location=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "kept"), [
    (INT_MIN, INT_MIN), (-1, -1), (0, 0), ("42", 42), (" 7 ", 7), ("1e3", 1000), ("2.0", 2),
    (INT_MAX, INT_MAX), (str(INT_MAX), INT_MAX)])
def test_whole_numbers_in_the_64_bit_range_are_kept(value: Any, kept: int) -> None:
    assert coerce(_integer_field(), value) == kept


@pytest.mark.parametrize("value", [INT_MAX + 1, INT_MIN - 1, 10**30, "1e400", "Infinity", "-Infinity",
                                   "NaN", "1.5", True, "x"])
def test_other_values_are_refused_naming_the_field_and_value(value: Any) -> None:
    with pytest.raises(DataError) as caught:
        coerce(_integer_field(), value)
    assert str(caught.value).startswith("days must be a whole number")
    assert repr(value) in str(caught.value)


def _field(kind: str) -> FieldDef:
    return FieldDef(name="v", type=kind, location=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1e1000000", "1e100000000", "9" * 5000, "-1e999999999"])
@pytest.mark.parametrize("kind", ["integer", "money"])
def test_huge_numbers_are_refused_in_milliseconds(kind: str, value: str) -> None:
    started = time.perf_counter()
    with pytest.raises(DataError, match="^v must"):
        coerce(_field(kind), value)
    assert time.perf_counter() - started < 0.05  # before: 27 s, or never for 1e100000000


@pytest.mark.parametrize(("value", "ok"), [
    ("999999999999999.99", True), ("-999999999999999.99", True), ("1e14", True),
    ("1000000000000000", False), ("1e15", False), ("-1e15", False), ("NaN", False),
    ("Infinity", False), ("1" * NUMBER_TEXT_MAX, False), ("0", True)])
def test_money_bounds(value: str, ok: bool) -> None:
    if ok:
        assert coerce(_field("money"), value) == Decimal(value)
    else:
        with pytest.raises(DataError, match="^v must"):
            coerce(_field("money"), value)


@pytest.mark.parametrize("length", [NUMBER_TEXT_MAX, NUMBER_TEXT_MAX + 1])
def test_number_text_length_at_and_past_the_limit(length: int) -> None:
    text = "0" * (length - 1) + "7"  # a small number, only its text is long
    if length <= NUMBER_TEXT_MAX:
        assert coerce(_field("integer"), text) == 7
    else:
        with pytest.raises(DataError, match="at most 64 characters"):
            coerce(_field("integer"), text)


@pytest.mark.parametrize("value", [" ", "   ", "\t\n", "\u3000"])
def test_whitespace_only_text_is_not_a_value(value: str) -> None:
    with pytest.raises(DataError, match="only blanks"):
        coerce(_field("string"), value)
    assert coerce(_field("string"), " 张三 ") == " 张三 "
