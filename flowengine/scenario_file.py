"""Reading a scenario file strictly, before anything runs (docs/scenarios.md).

The structure is checked against the bundled JSON Schema `flowengine/schemas/
scenario.schema.json` (the same file an editor uses), so a misspelled key such as
`{verify: {statuz: met}}` is an error at FILE:LINE:COL with a did-you-mean instead of an
expectation that silently checks nothing. Loading is bounded like process files (the YAML
loader caps size and alias expansion), and durations have at most six digits, so no
scenario can make the simulated clock run past the calendar.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .clock import parse_instant
from .definition.schema import schema_problems
from .errors import Location, Problem, ScenarioError
from .records.case import Actor
from .records.marked_yaml import MarkedList, MarkedMap, YamlError, load_yaml_file


def scenario_error(loc: Location, message: str) -> ScenarioError:
    return ScenarioError(f"{loc}: {message}")


def _line(p: Problem) -> str:
    return f"{p.location}: {p.message}" + (f" ({p.hint})" if p.hint else "")


def load_scenario(path: str) -> MarkedMap:
    """Read and check a scenario file; `ScenarioError` names file, line and column of every
    structural problem (one per line)."""
    try:
        doc = load_yaml_file(path)
    except YamlError as exc:
        raise scenario_error(exc.location, exc.message) from None
    problems = schema_problems(doc, path, "scenario")
    if problems:
        raise ScenarioError("\n".join(_line(p) for p in problems))
    assert isinstance(doc, MarkedMap)
    steps = doc.get("steps") or []
    for i, step in enumerate(steps):
        _check_step(step, steps.loc_of(i) if isinstance(steps, MarkedList) else doc.loc)
    start = doc["start"]
    instant(start.get("at"), start.loc_of("at"))
    return doc


def _check_step(step: MarkedMap, loc: Location) -> None:
    kinds = [k for k in ("fire", "advance", "expect") if k in step]
    if len(kinds) != 1:
        raise scenario_error(loc, "a step has exactly one of fire:, advance:, expect:")
    if "at" in step:
        instant(step["at"], step.loc_of("at"))


def instant(value: Any, loc: Location) -> datetime:
    """A scenario time: YAML's own date-time, or ISO 8601 text (no offset = Asia/Shanghai)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else parse_instant(value.isoformat())
    if isinstance(value, date):
        return parse_instant(value.isoformat() + "T00:00:00")
    if value is None:
        raise scenario_error(loc, "start needs 'at:' (the instant the case starts, "
                                  "e.g. 2026-03-02T09:00:00+08:00)")
    try:
        return parse_instant(str(value))
    except ValueError:
        raise scenario_error(loc, f"'{value}' is not an ISO 8601 instant") from None


def actor(value: Any) -> Actor:
    """`name` or `{name, role}` (the schema has checked the shape); none = the simulator."""
    if value is None:
        return Actor("simulator", None)
    if isinstance(value, str):
        return Actor(value, None)
    return Actor(str(value["name"]), value.get("role"))


__all__ = ["actor", "instant", "load_scenario", "scenario_error"]
