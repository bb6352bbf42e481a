"""`--data` on the command line: non-JSON constants, over-long numbers, deep nesting and lone
surrogates end with exit 2, a message naming --data (or the field), no traceback, and no
case created (docs/limits.md)."""

from __future__ import annotations

import pytest

from .conftest import Cli

BASE = ("case", "start", "standard_case", "--set", "petitioner=张三", "--actor", "王芳",
        "--role", "clerk", "--at", "2026-03-02T09:00")


@pytest.mark.parametrize("data, why", [
    ('{"subject": "噪音", "contact": NaN}', "NaN is not JSON"),
    ('{"subject": "噪音", "contact": Infinity}', "Infinity is not JSON"),
    ('{"subject": ' + "[" * 20_000 + "]" * 20_000 + "}", "nested 20,001 levels deep"),
    ('{"subject": "噪音", "contact": ' + "1" * 5000 + "}", "a number of 5,000 characters"),
    ('{"subject": "噪\\ud800音"}', "subject contains a lone surrogate"),
    ('{"subject": [[[[[[[["x"]]]]]]]]}', "subject is nested more than 8 levels deep"),
])
def test_bad_data_is_refused_without_a_trace(cli: Cli, data: str, why: str) -> None:
    r = cli(*BASE, "--data", data)
    assert r.code == 2 and why in r.stderr, r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr
    listed = cli("case", "list", "--json")
    assert listed.code == 2 or listed.json()["cases"] == []  # no database, or no case
