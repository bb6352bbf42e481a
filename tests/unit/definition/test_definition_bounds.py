"""Every bound of a definition (docs/limits.md), at and just past the limit: the value at
the bound validates, the one past it is refused with its code on its YAML line."""

from __future__ import annotations

import time

import pytest

from flowengine.definition.limits import INT_MAX, INT_MIN, NAME_MAX, PERIOD_MAX, VERSION_MAX
from flowengine.definition.loader import validate_text

TEMPLATE = """\
id: {pid}
version: "{version}"
title: t
roles: [clerk, {role}]
fields:
  petitioner: {{type: string, required: true}}
  amount: {{type: money, max: {money_max}, default: {money_default}}}
  visits: {{type: integer, min: {int_min}, default: {int_default}}}
states:
  open: {{initial: true}}
  {state}: {{}}
  done: {{final: true}}
transitions:
  - {{trigger: {trigger}, source: open, dest: {state}, roles: [clerk]}}
  - {{trigger: finish, source: {state}, roles: [clerk], route: by_amount}}
decisions:
  by_amount:
    input: amount
    rows:
      - {{dest: done, under: {threshold}}}
      - {{dest: done, at_least: {threshold}}}
deadlines:
  reply:
    start: {{started: true}}
    stop: {{enter: done}}
    length: {length}
    on_overdue: {{mark: true}}
"""
# quoted: YAML would read 999999999999999.99 as a float, which rounds it to 10^15
GOOD = {"pid": "p", "version": "1", "role": "director", "money_max": "'999999999999999.99'",
        "money_default": "'-999999999999999.99'", "int_min": str(INT_MIN),
        "int_default": str(INT_MAX), "state": "waiting", "trigger": "send",
        "threshold": "999999999999999", "length": f"{PERIOD_MAX['days']} days"}
PAST = [
    ("money_max", "1000000000000000", "FE232", 7),
    ("money_max", ".inf", "FE232", 7),
    ("money_default", "-1000000000000000", "FE216", 7),
    ("money_default", ".nan", "FE216", 7),
    ("int_min", str(INT_MIN - 1), "FE232", 8),
    ("int_default", str(INT_MAX + 1), "FE216", 8),
    ("threshold", "1000000000000000", "FE232", 20),
    ("threshold", "-.inf", "FE232", 20),
    ("length", f"{PERIOD_MAX['days'] + 1} days", "FE233", 26),
    ("length", f"{PERIOD_MAX['working_days'] + 1} working days", "FE233", 26),
    ("length", f"{PERIOD_MAX['hours'] + 1} hours", "FE233", 26),
    ("length", f"{PERIOD_MAX['minutes'] + 1} minutes", "FE233", 26),
    ("length", "1000000000 minutes", "FE105", 26),
    ("pid", "p" * (NAME_MAX + 1), "FE234", 1),
    ("version", "v" * (VERSION_MAX + 1), "FE234", 2),
    ("role", "r" * (NAME_MAX + 1), "FE234", 4),
    ("state", "s" * (NAME_MAX + 1), "FE234", 11),
    ("trigger", "t" * (NAME_MAX + 1), "FE234", 14),
]


def _errors(**change: str) -> list[tuple[str, int]]:
    _, problems = validate_text(TEMPLATE.format(**{**GOOD, **change}), "bounds.yaml")
    return [(p.code, p.location.line) for p in problems if p.severity == "error"]


def test_every_value_at_its_bound_validates() -> None:
    at = {"pid": "p" * NAME_MAX, "version": "v" * VERSION_MAX, "role": "r" * NAME_MAX,
          "state": "s" * NAME_MAX, "trigger": "t" * NAME_MAX}
    assert _errors() == []
    assert _errors(**at) == []
    for unit in ("working_days", "hours", "minutes"):
        assert _errors(length=f"{PERIOD_MAX[unit]} {unit.replace('_', ' ')}") == []


@pytest.mark.parametrize("key, value, code, line", PAST, ids=[f"{k}={v[:20]}" for k, v, *_ in PAST])
def test_a_value_just_past_its_bound_is_refused_on_its_line(key: str, value: str, code: str,
                                                           line: int) -> None:
    assert (code, line) in _errors(**{key: value})


@pytest.mark.parametrize("key, value", [("length", "9" * 100_000 + " days"),
                                        ("money_max", "9" * 100_000),
                                        ("int_default", "9" * 100_000)])
def test_a_huge_number_is_refused_in_well_under_a_second(key: str, value: str) -> None:
    started = time.perf_counter()
    errors = _errors(**{key: value})
    assert errors and time.perf_counter() - started < 1.0
