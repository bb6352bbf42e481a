"""Numeric CLI options with bounds a user can rely on (docs/limits.md).

Why: click's `FloatRange` lets NaN through (every comparison with NaN is false), so
`worker --interval nan` spun thousands of ticks a second and `--interval inf` crashed the
sleep; an unbounded `--limit` reached the database as a number no column holds. Each
option here refuses such a value with the option's name and the allowed range."""

from __future__ import annotations

import math
from typing import Any

import click

INTERVAL_MAX = 86_400.0  # worker --interval: at most a tick a day
LIMIT_MAX = 1_000_000_000  # case list --limit
NUMBER_TEXT_MAX = 64  # characters of a numeric option, checked before it is converted


class FiniteSeconds(click.ParamType[float]):
    """A finite number of seconds in [low, high]; NaN and ±Infinity refused."""

    name = "seconds"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, float):
            number = value
        else:
            text = str(value).strip()
            if len(text) > NUMBER_TEXT_MAX:
                self.fail(f"{text[:20]}… is longer than {NUMBER_TEXT_MAX} characters", param, ctx)
            try:
                number = float(text)
            except ValueError:
                self.fail(f"{text!r} is not a number of seconds", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{value} is not a finite number of seconds from {self.low:g} to "
                      f"{self.high:g}", param, ctx)
        return number


def limit_range() -> click.IntRange:
    return click.IntRange(min=1, max=LIMIT_MAX)
