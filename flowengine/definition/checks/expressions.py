"""Expressions (guards, conditional requirements, computed values, deadline and table
conditions) compiled exactly as the engine compiles them, so one that would fail at run time
is refused at load, pointing at the character (FE301–FE303); a quoted role or state they
compare with must be declared (FE211, FE201)."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ...errors import Location
from ...expr import FUNCTIONS, ExprError, Function, compile_expr
from ...expr.literals import named_literals
from ..model import ProcessDef, Requirement
from .columns import scalar_location
from .context import SIGNATURES, Context, location_of, unknown_hint

EXPR_BUILTINS = ("state", SIGNATURES)  # names every expression may read besides fields


def expression_functions() -> Mapping[str, Function]:
    """The functions an expression may call: exactly those the engine compiles with
    (`flowengine.expr.FUNCTIONS`, which includes the engine's `within`), so validation
    and runtime can never disagree about a function."""
    return FUNCTIONS


def every_expression(process: ProcessDef) -> Iterator[tuple[str, Location, str]]:
    """(text, location, what) for every expression of the process, in YAML order."""
    for t in process.transitions:
        owner = f"'{t.trigger}'"
        for g in t.guards:
            yield g.expr, g.location, f"guard of {owner}"
        yield from _requirement_exprs(t, t.requires, f"requires of {owner}")
        for name, text in t.compute.items():
            yield text, t.at(f"compute.{name}"), f"compute {name} of {owner}"
    yield from _requirement_exprs(process.start, process.start.requires, "start requires")
    for d in process.deadlines.values():
        if d.unless:
            yield d.unless, d.at("unless"), f"unless of deadline '{d.name}'"
        if d.due_field is not None and d.due_field.when:
            yield d.due_field.when, d.at("due_field.when"), \
                f"due_field when of deadline '{d.name}'"
    yield from _table_and_letter_exprs(process)


def _table_and_letter_exprs(process: ProcessDef) -> Iterator[tuple[str, Location, str]]:
    for table in process.decisions.values():
        for i, row in enumerate(table.rows, 1):
            if row.when:
                yield row.when, row.at("when"), f"row {i} of decision '{table.name}'"
    yield from _case_exprs(process)


def _case_exprs(process: ProcessDef) -> Iterator[tuple[str, Location, str]]:
    """Conditions over a whole case: a notification's `when`, `duplicate_flag.when`."""
    yield from ((n.when, n.at("when"), f"when of notification '{n.name}'")
                for n in process.notifications.values() if n.when)
    if process.duplicate_flag is not None:
        yield process.duplicate_flag.when, process.duplicate_flag.location, "duplicate_flag when"
    yield from ((x.when, x.at("when"), f"when of list '{x.name}'")
                for x in process.lists.values() if x.when)


def _requirement_exprs(defn: Any, requires: tuple[Requirement, ...],
                       what: str) -> Iterator[tuple[str, Location, str]]:
    for i, req in enumerate(requires):
        if req.when:
            yield req.when, location_of(defn, f"requires[{i}].when", f"requires[{i}]"), f"when of {what}"


def expressions(ctx: Context) -> None:
    """FE301 invalid or forbidden, FE302 unknown name, FE303 unknown function."""
    names = set(ctx.fields) | set(EXPR_BUILTINS)
    functions = expression_functions()
    for text, loc, what in every_expression(ctx.process):
        try:
            compile_expr(text, names, functions)
        except ExprError as exc:
            code, message = _classify(exc)
            where = scalar_location(ctx.lines, loc, text, exc.col - 1)
            ctx.add(code, f"{what}: {message}", where, hint=exc.hint)
            continue
        except Exception as exc:  # noqa: BLE001 - a compiler bug must not crash validate
            ctx.add("FE301", f"{what}: the expression could not be checked "
                    f"({type(exc).__name__}: {exc})", loc)
            continue
        _named_literals(ctx, text, loc, what)


def _named_literals(ctx: Context, text: str, loc: Location, what: str) -> None:
    """FE211 / FE201: a quoted role or state (`actor.role == 'directr'`, `state in
    ['closed']`, `has_signed('principl')`) must be declared, or the test is never true."""
    p = ctx.process
    known = {"role": declared_roles(p), "state": set(p.states)}
    for lit in named_literals(text):
        names = known[lit.kind]
        if not names or lit.value in names:
            continue
        code = "FE211" if lit.kind == "role" else "FE201"
        ctx.add(code, f"{what}: '{lit.value}' is not a {lit.kind} of this process",
                scalar_location(ctx.lines, loc, text, lit.col - 1),
                hint=unknown_hint(lit.value, names, f"{lit.kind}s"))


def declared_roles(p: ProcessDef) -> set[str]:
    """`roles:` when declared, else every role some transition or the start names."""
    if p.roles:
        return set(p.roles)
    return set(p.start.roles).union(*(t.roles for t in p.transitions))


_QUOTED = re.compile(r"'([^']*)'")


def _classify(exc: ExprError) -> tuple[str, str]:
    message = exc.message
    quoted = _QUOTED.search(message)
    name = quoted.group(1) if quoted else ""
    if message.startswith("unknown function"):
        if name.startswith("_") or hasattr(builtins, name):
            return "FE301", f"'{name}' cannot be called: expressions cannot reach Python"
        return "FE303", message
    if message.startswith("unknown name"):
        return "FE302", message
    return "FE301", message
