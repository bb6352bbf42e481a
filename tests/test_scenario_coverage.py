"""The scenario suite must keep covering the shipped procedures, so coverage cannot silently
regress when a scenario is deleted or a trigger is added to a process YAML.

- every trigger of every shipped procedure is fired, without `expect_error`, by at least one
  scenario of that procedure (read from the scenario files, no run needed);
- a trigger with several transition definitions (medical_dispute `close` from
  `feedback_given` and from `settled`) is fired from each definition's source, checked on
  the events of the scenarios that fire it;
- what the scenario format cannot say is checked on the run's result (the same
  `run_scenario` as `flowengine simulate --json`): deadlines that must never start, and
  deadlines met late or on time (`late` in `--json`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowengine import ProcessDef, load_process
from flowengine.simulate import ScenarioResult, run_scenario

ROOT = Path(__file__).parent / "scenarios"
PROCESSES = Path(__file__).parent.parent / "processes"
SHIPPED = ("standard_case", "five_step", "medical_dispute")
SCENARIOS = sorted(ROOT.rglob("*.yaml"))

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _process_at(path: str) -> ProcessDef:
    return load_process(path)


@cache
def _shipped() -> dict[str, ProcessDef]:
    out = {}
    for name in SHIPPED:
        p = _process_at(str(PROCESSES / f"{name}.yaml"))
        assert p.id == name, f"processes/{name}.yaml has id {p.id!r}"
        out[p.id] = p
    return out


def _scenario(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=_Loader)
    assert isinstance(doc, dict) and "process" in doc, f"{path}: not a scenario"
    return doc


def _process_id(path: Path, doc: dict[str, Any]) -> str:
    """The process a scenario runs: a path relative to the file, or a process id."""
    ref = str(doc["process"])
    candidate = path.parent / ref
    if candidate.is_file():
        return _process_at(os.path.normpath(candidate)).id
    return ref


def _fired_ok(doc: dict[str, Any]) -> list[str]:
    """Triggers of the `fire:` steps that are meant to be accepted (no expect_error)."""
    return [str(step["fire"]) for step in doc.get("steps") or []
            if isinstance(step, dict) and "fire" in step
            and step.get("expect_error") in (None, False)]


@cache
def _coverage() -> dict[str, dict[str, list[str]]]:
    """process id -> trigger -> scenario files that fire it successfully."""
    cov: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in SCENARIOS:
        doc = _scenario(path)
        pid = _process_id(path, doc)
        for trigger in _fired_ok(doc):
            cov[pid][trigger].append(str(path.relative_to(ROOT)))
    return cov


def test_every_scenario_names_a_shipped_process() -> None:
    assert SCENARIOS, "no scenario files under tests/scenarios"
    unknown = {str(p.relative_to(ROOT)): pid for p in SCENARIOS
               if (pid := _process_id(p, _scenario(p))) not in _shipped()}
    assert not unknown, f"scenarios of processes that are not shipped: {unknown}"


@pytest.mark.parametrize("process_id", SHIPPED)
def test_every_trigger_is_fired_successfully(process_id: str) -> None:
    process = _shipped()[process_id]
    assert process.triggers, f"{process_id} has no triggers?"
    fired = _coverage()[process_id]
    missing = sorted(process.triggers - set(fired))
    assert not missing, (f"{process_id}: no scenario fires {', '.join(missing)} without "
                         f"expect_error; add one under tests/scenarios/{process_id}/")
    unknown = sorted(set(fired) - process.triggers)
    assert not unknown, f"{process_id}: scenarios fire triggers it does not have: {unknown}"


def _multi_definition_triggers() -> list[tuple[str, str]]:
    out = []
    for pid, process in _shipped().items():
        count: dict[str, int] = defaultdict(int)
        for t in process.transitions:
            count[t.trigger] += 1
        out += [(pid, trigger) for trigger, n in sorted(count.items()) if n > 1]
    return out


@cache
def _run(rel: str) -> ScenarioResult:
    return run_scenario(str(ROOT / rel), processes=[str(PROCESSES)])


@pytest.mark.parametrize("process_id,trigger", _multi_definition_triggers())
def test_each_definition_of_a_shared_trigger_is_fired(process_id: str, trigger: str) -> None:
    """A trigger defined twice (different sources) must be fired from each definition."""
    sources_seen: set[str] = set()
    for rel in _coverage()[process_id].get(trigger, []):
        sources_seen |= {e["source"] for e in _run(rel).events
                         if e.get("trigger") == trigger and e.get("type") == "fired"}
    uncovered = [t.sources for t in _shipped()[process_id].transitions
                 if t.trigger == trigger and not set(t.sources) & sources_seen]
    assert not uncovered, (f"{process_id}: '{trigger}' is never fired from "
                           f"{', '.join('/'.join(s) for s in uncovered)}")


def test_there_is_a_shared_trigger_to_check() -> None:
    assert ("medical_dispute", "close") in _multi_definition_triggers()


# ------------------------------------------------------------------ beyond the YAML format
# A scenario can only say which deadlines exist and their status/due; these facts live in
# the run result (`simulate --json`): deadlines that never started, and `late`.

NEVER_STARTED = {
    # contact_unclear: nobody to tell, no 15-day acceptance notice (spec/processes.md §1)
    "standard_case/acceptance_notice_not_started_when_contact_unclear.yaml": ["acceptance_notice"],
    # the 60 days apply to 申诉求决类 only (domain.md Part A, open choices)
    "standard_case/suggestion_has_no_60_day_clock.yaml": ["handling"],
    # an individual matter has no stage plan clock, a group matter no opinion clock (§2)
    "five_step/individual_matter_13710_across_spring_festival.yaml": ["submit_stage_plan"],
    "five_step/group_matter_stage_plan_10_working_days.yaml": ["submit_opinion"],
    # no claim, or straight to court: no mediation clock (§3)
    "medical_dispute/route_0_no_claim_closed_after_feedback.yaml": ["mediation"],
    "medical_dispute/route_200000_court_advised_then_judgment.yaml": ["mediation"],
    # the feedback period is 5 or 10 working days, chosen at registration, never both;
    # mediation runs only once the committee accepts (issue 11)
    "medical_dispute/feedback_due_one_department_across_national_day.yaml":
        ["feedback_multi_department"],
    "medical_dispute/feedback_due_multi_department_across_national_day.yaml":
        ["feedback", "mediation"],
    "medical_dispute/resolved_on_spot.yaml": ["feedback_multi_department", "mediation"],
}

LATE = {
    # (file, deadline): late as counted in the on-time rate (spec/processes.md §1 On overdue)
    ("standard_case/handling_overdue_supervised_then_late_reply.yaml", "handling"): True,
    ("standard_case/acceptance_notice_overdue.yaml", "acceptance_notice"): True,
    ("standard_case/filed_case_through_review_and_recheck.yaml", "handling"): False,
    ("standard_case/acceptance_notice_met_across_spring_festival.yaml", "acceptance_notice"): False,
    ("five_step/assign_owner_overdue_supervised.yaml", "assign_owner"): True,
    ("five_step/individual_matter_13710_across_spring_festival.yaml", "assign_owner"): False,
    ("medical_dispute/feedback_due_one_department_across_national_day.yaml", "feedback"): False,
    ("medical_dispute/feedback_due_multi_department_across_national_day.yaml",
     "feedback_multi_department"): True,
    # the unit's 办结报告 came after its due date and after 督办 (2022 art. 22(三))
    ("standard_case/handed_down_unit_late_supervised.yaml", "unit_report"): True,
}

@pytest.mark.parametrize("rel,names", sorted(NEVER_STARTED.items()))
def test_deadline_never_started(rel: str, names: list[str]) -> None:
    result = _run(rel)
    assert result.ok, "\n".join(result.failures)
    started = {d["name"] for d in result.deadlines}
    assert not started & set(names), f"{rel}: {sorted(started & set(names))} started"


@pytest.mark.parametrize("rel,deadline,late", sorted((f, d, v) for (f, d), v in LATE.items()))
def test_met_deadline_counts_late_or_on_time(rel: str, deadline: str, late: bool) -> None:
    result = _run(rel)
    assert result.ok, "\n".join(result.failures)
    found = [d for d in result.deadlines if d["name"] == deadline]
    assert found, f"{rel}: deadline {deadline} never started"
    assert found[0]["status"] == "met", f"{rel}: {deadline} is {found[0]['status']}"
    assert found[0]["late"] is late, f"{rel}: {deadline} late is {found[0]['late']}, expected {late}"


