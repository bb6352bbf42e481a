"""Whatever scenario file or argument list the command line is given, it ends with exit
code 0, 1 or 2, never a Python traceback, never a hang. Random scenario documents (and
mutations of a valid one) go through `simulate`; random argument lists through `main`.
Bounded examples; runs in well under 20 seconds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.cli import main

ROOT = Path(__file__).resolve().parents[2]
FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
VALID = yaml.safe_load((ROOT / "examples" / "county_three_step.scenario.yaml").read_text("utf-8"))

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                     st.text(max_size=10),
                     st.sampled_from(["3 days", "999999999 days", "2 working days", "overdue",
                                      "2026-03-02T09:00", "nan", "1e400", "met"]))
_KEYS = st.sampled_from(["process", "start", "steps", "expect", "at", "actor", "data", "fire",
                         "advance", "after", "expect_error", "state", "deadlines", "status",
                         "due", "notifications", "events", "kind", "statuz", "name", "role"])
_DOCS = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)


def _run(args: list[str]) -> tuple[int, str]:
    runner = CliRunner()
    began = time.monotonic()
    with runner.isolation(env={"FLOWENGINE_PROCESSES": str(ROOT / "processes")}) as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        text = out.getvalue().decode() + err.getvalue().decode()
    assert time.monotonic() - began < 10, args
    return code, text


def _simulate(tmp_path: Path, doc: Any) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    code, text = _run(["simulate", "--processes", str(ROOT / "examples"), str(path)])
    assert code in (0, 1, 2), text
    assert "Traceback" not in text


@FAST
@given(doc=_DOCS)
def test_random_scenario_documents(tmp_path: Path, doc: Any) -> None:
    _simulate(tmp_path, doc)


@FAST
@given(key=st.sampled_from(["start", "steps", "expect"]), value=_DOCS)
def test_a_valid_scenario_with_one_part_replaced(tmp_path: Path, key: str, value: Any) -> None:
    _simulate(tmp_path, {**VALID, key: value})


_WORDS = st.sampled_from(["case", "start", "fire", "show", "list", "tick", "simulate",
                          "validate", "graph", "report", "replay", "audit", "verify",
                          "calendar", "check", "--json", "--quiet", "-h", "--version",
                          "--now", "--at", "--set", "--data", "--limit", "standard_case",
                          "x=1", "{}", "2026-03-02T09:00", "9999-12-31T23:59", "1e1000",
                          "nan", "-1", "C123", "--db"])


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=6))
def test_random_argument_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    if "--db" not in args:
        args = [*args, "--db", f"sqlite:///{tmp_path / 'fuzz.db'}"] if args[:1] in (
            ["case"], ["tick"], ["report"], ["replay"], ["audit"]) else args
    code, text = _run(args)
    assert code in (0, 1, 2), (args, text)
    assert "Traceback" not in text, (args, text)
