"""Semantic checks of a built `ProcessDef`: references, reachability, ambiguity, lint.

(First cut: only what the engine cannot run without. The full catalogue of checks and
their codes is documented in docs/validation.md.)
"""

from __future__ import annotations

from ..errors import Problem
from .model import ProcessDef


def check_process(process: ProcessDef) -> list[Problem]:
    """Every semantic problem of `process`, errors and warnings, in file order."""
    problems: list[Problem] = []
    initial = [s for s in process.states.values() if s.initial]
    if len(initial) != 1:
        problems.append(Problem("FE202", f"a process needs exactly one initial state, "
                                f"found {len(initial)}", process.location))
    for t in process.transitions:
        for name in (*t.sources, t.dest):
            if name is not None and name not in process.states:
                problems.append(Problem("FE201", f"unknown state '{name}'", t.location))
    return problems
