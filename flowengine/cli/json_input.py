"""`--data JSON` read within bounds: size and nesting checked before parsing, strict JSON.

Why: Python's `json` accepts `NaN` and `Infinity` (not JSON), turns a 5,000-digit number
into an int that breaks later, and recurses once per nesting level, so a 20,000-deep
document ended in a traceback. Here the text's size and its nesting are measured first
(brackets outside strings, no recursion), then it is parsed with the non-standard constants
refused and each number's text bounded before it is converted (docs/limits.md).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from ..definition.limits import NUMBER_TEXT_MAX
from ..engine.shape import DATA_DEPTH_MAX

DATA_JSON_MAX = 10_000_000  # characters of one --data document
# the data object itself is one level, its fields' values the next (shape.py counts those)
_DEPTH_MAX = DATA_DEPTH_MAX + 1
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class DataJsonError(ValueError):
    """Why the --data text was refused (the message names no option: the caller does)."""


def nesting(text: str) -> int:
    """How deep the brackets of JSON `text` nest (strings skipped); no recursion."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    steps = (1 if c in "[{" else -1 for c in brackets)
    return max(accumulate(steps, initial=0))


def _constant(name: str) -> Any:
    raise DataJsonError(f"{name} is not JSON (write the number, or leave the field out)")


def _number(kind: type) -> Any:
    def parse(text: str) -> Any:
        if len(text) > NUMBER_TEXT_MAX:
            raise DataJsonError(f"a number of {len(text):,} characters: at most "
                                f"{NUMBER_TEXT_MAX} are read")
        return kind(text)

    return parse


def load_data_json(text: str) -> dict[str, Any]:
    """The JSON object `text`, or `DataJsonError` saying why not."""
    if len(text) > DATA_JSON_MAX:
        raise DataJsonError(f"{len(text):,} characters: at most {DATA_JSON_MAX:,} are read")
    depth = nesting(text)
    if depth > _DEPTH_MAX:
        raise DataJsonError(f"nested {depth:,} levels deep: at most {_DEPTH_MAX} (a field's "
                            "value is a scalar or a list of them)")
    try:
        loaded = json.loads(text, parse_constant=_constant, parse_int=_number(int),
                            parse_float=_number(float))
    except json.JSONDecodeError as exc:
        raise DataJsonError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:  # unreachable after the depth check; kept as a last line
        raise DataJsonError("nested too deep") from None
    if not isinstance(loaded, dict):
        raise DataJsonError("must be a JSON object {...}")
    return loaded


__all__ = ["DATA_JSON_MAX", "DataJsonError", "load_data_json", "nesting"]
