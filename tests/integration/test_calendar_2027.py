"""A case whose deadlines reach 2027 (not yet published) is refused with an error naming
the year and the file to add; once an integrator supplies the year in a calendar file
referenced by the process, the same scenario passes (issue 3, "done when")."""

from __future__ import annotations

import shutil
from pathlib import Path

from flowengine import CalendarYearMissing, run_scenario
from flowengine.cli import main

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
process: five_step.yaml
start:
  at: 2026-12-24T10:00:00+08:00
  actor: {name: 市信访局, role: bureau}
  data: {receiving_leader: 李市长, matter_type: individual, responsible_unit: 城东区, subject: 拖欠工资}
steps:
  - fire: assign_owner
    data: {owner_leader: 陈主任, resolution_team: [甲, 乙]}
expect:
  state: owner_assigned
  # 7 working days after 12-24: 12-25, 28, 29, 30, 31, then 2027: 01-04 (01-01 a holiday), 01-05
  deadlines: {submit_opinion: {status: open, due: 2027-01-05}}
"""

YEAR_2027 = """\
name: test data for 2027 (made up for this test; not the State Council's notice)
covers: [2027]
holidays:
  - {date: 2027-01-01, name: 元旦}
"""


def _setup(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "processes" / "five_step.yaml", tmp_path / "five_step.yaml")
    scenario = tmp_path / "reaches_2027.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return scenario


def test_refused_with_the_year_and_the_file_to_add(tmp_path: Path, capsys) -> None:
    scenario = _setup(tmp_path)
    result = run_scenario(str(scenario))
    assert not result.ok
    assert "no calendar covers 2027" in result.failures[0]
    assert "calendars/cn-2027.yaml" in result.failures[0]
    assert result.events == []  # nothing half-started


def test_the_cli_says_so_without_a_traceback(tmp_path: Path, capsys) -> None:
    scenario = _setup(tmp_path)
    try:
        main(["simulate", str(scenario)])
    except SystemExit as exc:
        assert exc.code == 1
    out = capsys.readouterr()
    assert "no calendar covers 2027" in out.out + out.err
    assert "Traceback" not in out.out + out.err


def test_passes_once_the_year_is_supplied(tmp_path: Path) -> None:
    scenario = _setup(tmp_path)
    (tmp_path / "cn-2027.yaml").write_text(YEAR_2027, encoding="utf-8")
    process = tmp_path / "five_step.yaml"
    text = process.read_text(encoding="utf-8")
    process.write_text(text.replace("timezone: Asia/Shanghai\n",
                                    "timezone: Asia/Shanghai\ncalendars: [cn-2027.yaml]\n"),
                       encoding="utf-8")
    result = run_scenario(str(scenario))
    assert result.ok, result.failures


def test_the_error_type_carries_the_year() -> None:
    err = CalendarYearMissing(2027)
    assert err.year == 2027 and err.exit_code == 2
