"""The shape of data given to `start`/`fire`: how deep, how many values, how long a text.

Why before any coercion: case data is a mapping of fields to values and lists of values,
so anything nested deeper is a mistake or an attack, and a host's thread should not spend
seconds (or its stack) on it. The walk is iterative and stops at the first excess, so a
20,000-deep or ten-million-item value costs microseconds to refuse (docs/limits.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DATA_DEPTH_MAX = 8  # a field's value is depth 1; a list item depth 2
DATA_VALUES_MAX = 10_000  # values in one call, list items included
TEXT_CHARS_MAX = 1_000_000  # characters of one text value


_FLAT = frozenset({bool, int, float, type(None)})  # never too deep, large or long


def shape_problem(data: Mapping[str, Any]) -> str | None:
    """Why `data` is too deep, too large or holds too long a text; None when it is fine."""
    if len(data) <= DATA_VALUES_MAX and all(
            type(v) in _FLAT or type(v) is str and len(v) <= TEXT_CHARS_MAX
            for v in data.values()):
        return None  # the usual call: a few flat values, nothing to walk
    stack: list[tuple[Any, int, str]] = [(v, 1, str(k)[:100]) for k, v in data.items()]
    count = len(stack)
    while stack:
        value, depth, name = stack.pop()
        if count > DATA_VALUES_MAX:
            return f"more than {DATA_VALUES_MAX:,} values in one call"
        if depth > DATA_DEPTH_MAX:
            return f"{name} is nested more than {DATA_DEPTH_MAX} levels deep"
        if isinstance(value, str) and len(value) > TEXT_CHARS_MAX:
            return f"{name} is longer than {TEXT_CHARS_MAX:,} characters"
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        count += len(children)
        if count > DATA_VALUES_MAX:
            return f"more than {DATA_VALUES_MAX:,} values in one call"
        stack.extend((child, depth + 1, name) for child in children)
    return None


__all__ = ["DATA_DEPTH_MAX", "DATA_VALUES_MAX", "TEXT_CHARS_MAX", "shape_problem"]
