"""Case data values: coerce input (JSON, YAML, `--set k=v` strings) to the declared types.

One function serves input checking and replay: `coerce` is idempotent, so a typed value
passes through unchanged and its stored JSON form (strings for money and dates) comes back
as the same typed value. Money is `Decimal`, never float. The JSON forms themselves
(`to_json`, `is_missing`) need no definition and live in `flowengine.records.values`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..definition.limits import INT_MAX, INT_MIN, MONEY_DIGITS, NUMBER_TEXT_MAX
from ..definition.model import FieldDef
from ..records.values import is_missing, to_json
from .shape import shape_problem

__all__ = ["DataError", "SIGNATURES", "SIGNATURES_FIELD", "coerce", "coerce_all", "is_missing",
           "to_json"]

SIGNATURES = "signatures"  # built-in list field written by `signs: true` transitions


class DataError(ValueError):
    """A value does not fit its field; the message names the field and the expected form."""




def _number_text(f: FieldDef, v: Any) -> str:
    """The text of a number, refused when too long to be one of ours (so a 5,000-digit
    value or `1e1000000` costs microseconds, never a huge conversion)."""
    text = str(v).strip()
    if len(text) > NUMBER_TEXT_MAX:
        raise DataError(f"{f.name} must be a number of at most {NUMBER_TEXT_MAX} characters")
    return text


def _money(f: FieldDef, v: Any) -> Decimal:
    if isinstance(v, bool):
        raise DataError(f"{f.name} must be an amount of money, not {v!r}")
    if isinstance(v, Decimal):
        result = v
    else:
        try:
            result = Decimal(_number_text(f, v).replace(",", ""))
        except InvalidOperation:
            raise DataError(f"{f.name} must be an amount such as 30000.00, not {v!r}") from None
    if not result.is_finite():
        raise DataError(f"{f.name} must be a finite amount")
    if result and result.adjusted() >= MONEY_DIGITS:  # the exponent: no digits expanded
        raise DataError(f"{f.name} must be less than 10^{MONEY_DIGITS} (at most "
                        f"{MONEY_DIGITS} whole digits), not {v!r}")
    if result.as_tuple().exponent < -2:  # type: ignore[operator]
        raise DataError(f"{f.name} has more than 2 decimal places (fen): {v!r}")
    return result




def _integer(f: FieldDef, v: Any) -> int:
    if isinstance(v, bool):
        raise DataError(f"{f.name} must be a whole number, not {v!r}")
    if isinstance(v, int):
        n = v
    else:
        try:
            d = Decimal(_number_text(f, v))
        except InvalidOperation:
            raise DataError(f"{f.name} must be a whole number, not {v!r}") from None
        if not d.is_finite():
            raise DataError(f"{f.name} must be a whole number, not {v!r}")
        if d and d.adjusted() > 18:  # past 2^63 whatever the digits: never expanded
            raise DataError(f"{f.name} must be a whole number between {INT_MIN} and "
                            f"{INT_MAX}, not {v!r}")
        if d != d.to_integral_value():
            raise DataError(f"{f.name} must be a whole number, not {v!r}")
        n = int(d)
    if not INT_MIN <= n <= INT_MAX:
        raise DataError(f"{f.name} must be a whole number between {INT_MIN} and {INT_MAX}, not {v!r}")
    return n


def _boolean(f: FieldDef, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    text = str(v).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise DataError(f"{f.name} must be true or false, not {v!r}")


def _date(f: FieldDef, v: Any) -> date:
    if isinstance(v, datetime):
        raise DataError(f"{f.name} must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v).strip())
    except ValueError:
        raise DataError(f"{f.name} must be a date such as 2026-03-02, not {v!r}") from None


def _datetime(f: FieldDef, v: Any) -> datetime:
    if isinstance(v, datetime):
        value = v
    else:
        try:
            value = datetime.fromisoformat(str(v).strip())
        except ValueError:
            raise DataError(f"{f.name} must be a date and time (ISO 8601), not {v!r}") from None
    if value.tzinfo is None:
        raise DataError(f"{f.name} needs a time zone offset, e.g. 2026-03-02T09:00:00+08:00")
    return value


def _text(f: FieldDef, v: Any) -> str:
    if isinstance(v, (dict, list)):
        raise DataError(f"{f.name} must be text, not {type(v).__name__}")
    text = v if isinstance(v, str) else str(v)
    if text and not text.strip():
        raise DataError(f"{f.name} is only blanks: give text, or leave the field out")
    if f.max_length is not None and len(text) > f.max_length:
        raise DataError(f"{f.name} is longer than {f.max_length} characters")
    return text


def _enum(f: FieldDef, v: Any) -> str:
    if v not in f.values:
        from ..errors import did_you_mean

        hint = did_you_mean(str(v), f.values) or f"one of {', '.join(f.values)}"
        raise DataError(f"{f.name} cannot be {v!r}; {hint}")
    return str(v)


def _scalar(f: FieldDef, kind: str, v: Any) -> Any:
    if kind == "money":
        return _money(f, v)
    if kind == "integer":
        return _integer(f, v)
    if kind == "boolean":
        return _boolean(f, v)
    if kind == "date":
        return _date(f, v)
    if kind == "datetime":
        return _datetime(f, v)
    if kind == "enum":
        return _enum(f, v)
    return _text(f, v)


def _item(f: FieldDef, index: int, value: Any) -> Any:
    """One item of list field `f`, checked against the declared item type: no item of any
    list passes unchecked (a dict is never text, money or a date)."""
    try:
        if f is SIGNATURES_FIELD:
            return _signature(value)
        return _scalar(f, f.items or "string", value)
    except DataError as exc:
        raise DataError(f"item {index} of {exc}") from None


_SIGNATURE_KEYS = frozenset({"name", "role", "at"})


def _signature(v: Any) -> dict[str, Any]:
    """A recorded signature `{name, role, at}` (the engine writes them; replay reads them)."""
    if (not isinstance(v, dict) or set(v) != _SIGNATURE_KEYS
            or not all(isinstance(v[k], str) for k in ("name", "at"))
            or not isinstance(v["role"], (str, type(None)))):
        raise DataError(f"{SIGNATURES} holds signatures {{name, role, at}}, not {v!r}")
    return v


def _bounds(f: FieldDef, value: Any) -> None:
    if f.minimum is not None and value < f.minimum:
        raise DataError(f"{f.name} must be at least {f.minimum}, not {value}")
    if f.maximum is not None and value > f.maximum:
        raise DataError(f"{f.name} must be at most {f.maximum}, not {value}")


def coerce(f: FieldDef, value: Any) -> Any:
    """The typed value for field `f`; None stays None (a cleared field)."""
    if value is None:
        return None
    if f.type == "list":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise DataError(f"{f.name} must be a list")
        items = [_item(f, i, v) for i, v in enumerate(value, 1)]
        if f.min_items is not None and len(items) < f.min_items:
            raise DataError(f"{f.name} needs at least {f.min_items} item(s)")
        return items
    result = _scalar(f, f.type, value)
    if f.type in ("money", "integer"):
        _bounds(f, result)
    return result


SIGNATURES_FIELD = FieldDef(name=SIGNATURES, type="list", location=None)  # type: ignore[arg-type]


def coerce_all(fields: Mapping[str, FieldDef], data: Mapping[str, Any]) -> dict[str, Any]:
    """Coerce every value given as input; unknown names and bad values raise `DataError`.
    Text is also checked for control characters here, at entry only (`coerce` alone
    replays stored history, which must keep loading whatever it holds)."""
    too_much = shape_problem(data)
    if too_much:
        raise DataError(too_much)
    out: dict[str, Any] = {}
    for name, value in data.items():
        f = fields.get(name) or (SIGNATURES_FIELD if name == SIGNATURES else None)
        if f is None:
            from ..errors import did_you_mean

            hint = did_you_mean(name, fields) or "declare it under 'fields:' in the process YAML"
            raise DataError(f"unknown field '{name}'; {hint}")
        out[name] = coerce(f, value)
        _entry_text(f, out[name])
    return out


# Line breaks of any kind (str.splitlines' set): a `string` is one line, and a contact
# (an e-mail address, a phone number) with CR/LF could add mail headers or recipients.
_LINE_BREAK = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _entry_text(f: FieldDef, value: Any) -> None:
    """NUL is refused in all text (no database column keeps it); a line break in a
    `string` field (one line: names, references, contacts), not in a `text` field."""
    kind = (f.items or "string") if f.type == "list" else f.type
    if kind not in ("string", "text") or value is None or f is SIGNATURES_FIELD:
        return
    for text in value if isinstance(value, list) else (value,):
        if "\x00" in text:
            raise DataError(f"{f.name} contains a NUL character")
        if _SURROGATE.search(text):
            raise DataError(f"{f.name} contains a lone surrogate (\\ud800-\\udfff), which "
                            "is not a character: no text encoding holds it")
        if kind == "string" and _LINE_BREAK.search(text):
            raise DataError(f"{f.name} is one line of text: a line break (CR, LF …) is "
                            "refused; declare the field as text for several lines")
