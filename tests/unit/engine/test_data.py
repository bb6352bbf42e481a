"""Typed field values: what a field refuses is refused with its name and the value, before
anything is recorded (never a traceback from the encoder or the database)."""

from __future__ import annotations

from typing import Any

import pytest

from flowengine.definition.model import FieldDef
from flowengine.engine.data import INT_MAX, INT_MIN, DataError, coerce


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
