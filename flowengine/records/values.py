"""The JSON form of case data values, shared by every layer: money as a decimal string,
dates and instants ISO 8601. Coercing input to a field's declared type needs the
definition and lives above, in `flowengine.engine.data`; this is its inverse.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any


def is_missing(value: Any) -> bool:
    """A required field is missing when unset, empty text or an empty list."""
    return value is None or value == "" or value == []


def to_json(value: Any) -> Any:
    """The JSON form of a typed value (the inverse of `engine.data.coerce`)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value
