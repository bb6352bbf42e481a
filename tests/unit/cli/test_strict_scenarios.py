"""Scenario files are checked against their JSON Schema before anything runs: the
integrator's typical mistakes (a misspelled key, a list where a mapping is expected, a
string where data is expected, a huge duration, an alias bomb) are errors naming
FILE:LINE:COL, exit 2, never a traceback, never an expectation that checks nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flowengine.cli import main
from flowengine.errors import ScenarioError
from flowengine.scenario_file import load_scenario

ROOT = Path(__file__).resolve().parents[3]
HEAD = """process: standard_case
start:
  at: 2026-08-03T09:00:00+08:00
  actor: {name: 王芳, role: clerk}
  data: {petitioner: 张三, subject: 噪音}
"""


def _run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["simulate", "--processes", str(ROOT / "processes"), str(path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(exited.value.code or 0), err


def test_misspelled_expectation_keys_are_errors_with_place_and_suggestion(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (HEAD + "steps:\n  - fire: accept\nexpect:\n"
            "  deadlines: {handling: {statuz: met, duee: 1999-01-01}}\n")
    code, err = _run(tmp_path, text, capsys)
    assert code == 2
    assert f"{tmp_path / 's.yaml'}:9:26: unknown key 'statuz'" in err
    assert "did you mean 'status'?" in err
    assert ":9:39: unknown key 'duee'" in err and "did you mean 'due'?" in err


def test_unknown_expectation_group_is_an_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, HEAD + "expect:\n  verify: {status: met}\n", capsys)
    assert code == 2
    assert "s.yaml:7:3: unknown key 'verify' in expect" in err


@pytest.mark.parametrize("tail, needle", [
    ("expect:\n  notifications: [overdue]\n", "expect.notifications[0] must be a mapping"),
    ("expect:\n  events: {kind: overdue}\n", "expect.events must be a list"),
    ("steps:\n  - fire: accept\n    data: 张三\n", "steps[0].data must be a mapping"),
    ("steps:\n  - advance: 99999999999999999999 days\n", "at most 6 digits"),
    ("steps:\n  - advance: 3 weeks\n", "is not a duration"),
    ("steps:\n  - fire: accept\n    advance: 3 days\n", "exactly one of fire:, advance:, expect:"),
    ("steps:\n  - fire: accept\n    at: yesterday\n", "is not an ISO 8601 instant"),
    ("steps:\n  - fire: accept\n    actor: {nam: 李}\n", "steps[0].actor"),
])
def test_wrong_shapes_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 tail: str, needle: str) -> None:
    code, err = _run(tmp_path, HEAD + tail, capsys)
    assert code == 2
    assert needle in err
    assert err.startswith(f"error: {tmp_path / 's.yaml'}:")


def test_an_advance_past_the_calendar_is_an_error_on_its_step(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, HEAD + "steps:\n  - advance: 999999 working days\n", capsys)
    assert code == 2
    assert "s.yaml:7:5: step 1:" in err


def test_a_billion_laughs_scenario_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n" + HEAD, encoding="utf-8")
    began = time.monotonic()
    with pytest.raises(ScenarioError, match="aliases"):
        load_scenario(str(path))
    assert time.monotonic() - began < 5


def test_every_shipped_scenario_is_valid_against_the_schema() -> None:
    files = [*ROOT.glob("tests/scenarios/**/*.yaml"), *ROOT.glob("examples/*.scenario.yaml")]
    assert len(files) > 50
    for path in files:
        load_scenario(str(path))
