"""CLI numeric options at and just past each limit of docs/limits.md: a value inside runs,
one outside (or NaN, ±Infinity, a number no column holds, a far date) is a clear error with
exit 2, never a traceback or a hang."""

from __future__ import annotations

import pytest

from flowengine.cli.bounds import INTERVAL_MAX, LIMIT_MAX, NUMBER_TEXT_MAX

from .conftest import Cli

WORKER_OK = ["0", str(INTERVAL_MAX), "0.5"]
WORKER_REFUSED = ["nan", "NaN", "inf", "-inf", "Infinity", "-1", "-0.001",
                  str(INTERVAL_MAX + 0.001), "1e1000000", "1" * (NUMBER_TEXT_MAX + 1), "x"]


@pytest.mark.parametrize("interval", WORKER_OK)
def test_worker_interval_inside(cli: Cli, interval: str) -> None:
    r = cli("worker", "--interval", interval, "--max-ticks", "1", "--json")
    assert r.code == 0, r.stderr


@pytest.mark.parametrize("interval", WORKER_REFUSED)
def test_worker_interval_refused(cli: Cli, interval: str) -> None:
    r = cli("worker", "--interval", interval, "--max-ticks", "1")
    assert r.code == 2 and "--interval" in r.stderr and "Traceback" not in r.stderr, r
    assert "tick" not in r.stdout  # refused before the first tick


@pytest.mark.parametrize(("limit", "code"), [
    ("1", 0), (str(LIMIT_MAX), 0), ("0", 2), (str(LIMIT_MAX + 1), 2), (str(10 ** 30), 2),
    ("1" * 5000, 2), ("-1", 2)])
def test_case_list_limit(cli: Cli, limit: str, code: int) -> None:
    cli.start()
    r = cli("case", "list", "--limit", limit)
    assert r.code == code and "Traceback" not in r.stderr, r
    if code:
        assert "--limit" in r.stderr and "database" not in r.stderr


def test_a_far_instant_is_a_clear_error(cli: Cli) -> None:
    r = cli("case", "start", "standard_case", "--set", "petitioner=甲", "--set", "subject=乙",
            "--role", "clerk", "--at", "9999-12-31T23:59")
    assert r.code == 2 and "no calendar covers 9999" in r.stderr and not r.stdout
