"""Whether a value written in the YAML fits a field's type and bounds: a pure function of
the field and the value, whose answer ("why not") goes into the FE215/FE216 message as is."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ...errors import did_you_mean
from ..limits import NUMBER_TEXT_MAX, number_bound_problem
from ..model import FieldDef
from .context import number_text


def value_problem(f: FieldDef, value: Any) -> str | None:
    """Why `value` (as written in the YAML) does not fit field `f`, or None when it does."""
    if value is None:
        return None
    if f.type == "list":
        if not isinstance(value, list):
            return "a list is expected, e.g. [a, b]"
        for item in value:
            why = _scalar_problem(f, f.items or "string", item)
            if why:
                return f"item {item!r}: {why}"
        if f.min_items is not None and len(value) < f.min_items:
            return f"at least {f.min_items} item(s) are needed"
        return None
    return _scalar_problem(f, f.type, value)


def _scalar_problem(f: FieldDef, kind: str, value: Any) -> str | None:  # noqa: C901
    # One branch per type of the language: splitting it would only hide the table.
    if isinstance(value, (dict, list)):
        shape = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind} value is expected, not a {shape}"
    if kind == "boolean":
        return None if isinstance(value, bool) else "write true or false"
    if isinstance(value, bool):
        return f"a {kind} value is expected, not {str(value).lower()}"
    if kind == "enum":
        if value in f.values:
            return None
        near = did_you_mean(str(value), f.values)
        return f"not one of {', '.join(f.values)}" + (f"; {near}" if near else "")
    if kind in ("money", "integer"):
        return _number_problem(f, kind, value)
    if kind == "date":
        return _date_problem(value)
    if kind == "datetime":
        return _datetime_problem(value)
    if f.max_length is not None and len(str(value)) > f.max_length:
        return f"longer than max_length {f.max_length}"
    return None


def _number_problem(f: FieldDef, kind: str, value: Any) -> str | None:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return f"{'an amount' if kind == 'money' else 'a whole number'} is expected"
    if len(str(value).strip()) > NUMBER_TEXT_MAX:  # before any conversion of its digits
        return f"a number of at most {NUMBER_TEXT_MAX} characters is expected"
    why = number_bound_problem(kind, number)
    if why:
        return why
    if kind == "integer" and number != number.to_integral_value():
        return "a whole number is expected"
    if kind == "money" and number.as_tuple().exponent < -2:  # type: ignore[operator]
        return "money has at most 2 decimal places (fen)"
    if f.minimum is not None and number < f.minimum:
        return f"below the field's min {number_text(f.minimum)}"
    if f.maximum is not None and number > f.maximum:
        return f"above the field's max {number_text(f.maximum)}"
    return None


def _date_problem(value: Any) -> str | None:
    if isinstance(value, datetime):
        return "a date (YYYY-MM-DD) is expected, not a date and time"
    if isinstance(value, date):
        return None
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return "a date such as 2026-03-02 is expected"
    return None


def _datetime_problem(value: Any) -> str | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return "a date and time with an offset is expected, e.g. 2026-03-02T09:00:00+08:00"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return "a date and time such as 2026-03-02T09:00:00+08:00 is expected"
    if moment.tzinfo is None:
        return "a time zone offset is needed, e.g. 2026-03-02T09:00:00+08:00"
    return None
