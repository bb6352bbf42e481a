"""Semantic checks of a built `ProcessDef`: what the JSON Schema cannot see.

The schema (FE1xx) knows the shape of one node at a time; these checks know the whole
procedure: that a `dest` names a declared state, that every state can be reached and can
finish, that a guard only reads declared fields, that a decision table covers its input,
that a message template only uses values that will exist. Every finding is a `Problem`
placed on the YAML node that must change (`def.at(key)`), saying what is wrong and what
to do, with "did you mean …" where a near name exists. Codes are stable and documented in
docs/validation.md:

    FE201–FE234  references and structure (errors, a few warnings); FE232–FE234 bounds
    FE301–FE303  expressions (guards, conditions, computed values)
    FE401–FE403  lint for legal completeness (warnings)

One module per family of checks, each check a small function of a `Context`:

    states         states and transitions: names, initial/final, reachability, shadowing, roles
    fields         field references and the values written for fields (with `values`)
    deadlines      deadlines, the triggers they name, time zone and calendar files
    decisions      decision tables: conditions, overlaps, gaps
    expressions    guards and other expressions, compiled as the engine compiles them
    notifications  events, recipients, message templates
    completeness   FE403: the fields every way into a state records
    bounds         numbers, periods and names past what the engine and database hold
    titles         FE409: titles for people, when the process requires them
    context        the process under check and the wording shared by every problem
    columns        the column of a character inside a YAML scalar

`check_process` runs them all in one fixed order (problems at the same place are reported
in that order), and one that fails unexpectedly cannot hide the others' findings (it
becomes an FE000 problem instead of a traceback, so `flowengine validate` never crashes
on a definition).
"""

from __future__ import annotations

from collections.abc import Callable

from ...errors import Problem
from ..model import ProcessDef
from . import (
    bounds,
    completeness,
    deadlines,
    decisions,
    expressions,
    fields,
    notifications,
    states,
    titles,
)
from .columns import scalar_location
from .completeness import guaranteed_fields
from .context import Context
from .decisions import row_condition
from .expressions import expression_functions
from .notifications import template_fields
from .values import value_problem

__all__ = [
    "check_process",
    "expression_functions",
    "guaranteed_fields",
    "row_condition",
    "scalar_location",
    "template_fields",
    "value_problem",
]


def check_process(process: ProcessDef) -> list[Problem]:
    """Every semantic problem of `process`, errors and warnings, in file order."""
    ctx = Context(process)
    for check in _CHECKS:
        try:
            check(ctx)
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the rest
            ctx.add("FE000", f"internal error in the {check.__name__.strip('_')} check: "
                    f"{type(exc).__name__}: {exc}", process.location,
                    hint="please report this with the YAML file")
    unique = dict.fromkeys(ctx.problems)
    return sorted(unique, key=lambda p: (p.location.line, p.location.col))


_CHECKS: tuple[Callable[[Context], None], ...] = (
    states.states, states.reachability, states.transitions, fields.field_refs,
    fields.set_values, fields.field_defs, fields.engine_written, deadlines.trigger_refs,
    deadlines.deadlines,
    decisions.decisions, expressions.expressions, notifications.notifications,
    deadlines.environment, states.open_roles, completeness.closure_fields, titles.titles,
    fields.list_refs, bounds.numbers, bounds.periods, bounds.names,
)
