"""Semantic checks of a built `ProcessDef`: what the JSON Schema cannot see.

The schema (FE1xx) knows the shape of one node at a time; these checks know the whole
procedure: that a `dest` names a declared state, that every state can be reached and can
finish, that a guard only reads declared fields, that a decision table covers its input,
that a message template only uses values that will exist. Every finding is a `Problem`
placed on the YAML node that must change (`def.at(key)`), saying what is wrong and what
to do, with "did you mean …" where a near name exists. Codes are stable and documented in
docs/validation.md:

    FE201–FE224  references and structure (errors, a few warnings)
    FE301–FE303  expressions (guards, conditions, computed values)
    FE401–FE403  lint for legal completeness (warnings)

Each check is a small function of a `_Ctx`; `check_process` runs them all and one that
fails unexpectedly cannot hide the others' findings (it becomes an FE000 problem instead
of a traceback, so `flowengine validate` never crashes on a definition).
"""

from __future__ import annotations

import builtins
import os
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from ...errors import Location, Problem, Severity, did_you_mean
from ...expr import FUNCTIONS, ExprError, Function, compile_expr
from .. import graph
from ..model import (
    DeadlineDef,
    DecisionRow,
    DecisionTable,
    FieldDef,
    ProcessDef,
    Requirement,
    TransitionDef,
)

SIGNATURES = "signatures"  # built-in list field written by `signs: true` transitions
EXPR_BUILTINS = ("state", SIGNATURES)  # names every expression may read besides fields
TEMPLATE_BUILTINS = ("case", "date", "deadline", "deadline_name", "due", "reason", "days", "state",
                     "trigger", "actor")
RECIPIENTS = ("petitioner", "owner", "supervisor")


# ----------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    """The process under check plus the lookups every check needs."""

    process: ProcessDef
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.file = self.process.location.file
        self.lines = self.process.source_text.split("\n")
        self.fields: Mapping[str, FieldDef] = self.process.fields
        self.known_fields = set(self.fields) | {SIGNATURES}

    def add(self, code: str, message: str, loc: Location, severity: Severity = "error",
            hint: str = "") -> None:
        self.problems.append(Problem(code, message, loc, severity, hint))


def check_process(process: ProcessDef) -> list[Problem]:
    """Every semantic problem of `process`, errors and warnings, in file order."""
    ctx = _Ctx(process)
    for check in _CHECKS:
        try:
            check(ctx)
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the rest
            ctx.add("FE000", f"internal error in the {check.__name__.strip('_')} check: "
                    f"{type(exc).__name__}: {exc}", process.location,
                    hint="please report this with the YAML file")
    unique = dict.fromkeys(ctx.problems)
    return sorted(unique, key=lambda p: (p.location.line, p.location.col))


# ----------------------------------------------------------------------------- helpers


def _loc(defn: Any, *keys: str) -> Location:
    """The location of the first of `keys` that `defn` knows, else `defn.location`."""
    locs: Mapping[str, Location] = getattr(defn, "locs", {})
    for key in keys:
        if key in locs:
            return locs[key]
    return defn.location  # type: ignore[no-any-return]


def _items(defn: Any, key: str, names: Iterable[str]) -> Iterator[tuple[str, Location]]:
    """(name, location) for a `names` value written as one name or as a list."""
    for i, name in enumerate(names):
        yield name, _loc(defn, f"{key}[{i}]", key)


def _unknown_hint(name: str, known: Iterable[str], where: str) -> str:
    known = sorted(set(known))
    near = did_you_mean(name, known)
    if near:
        return near
    if known and len(known) <= 12:
        return f"known: {', '.join(known)}"
    return f"declare it under '{where}:'"


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _fmt(value: Decimal) -> str:
    """A number as written by people: 30000, 0.01, never 3E+4."""
    if value.is_infinite():
        return "∞" if value > 0 else "-∞"
    text = format(value.normalize(), "f")
    return text


# ----------------------------------------------------------------------------- states


def _states(ctx: _Ctx) -> None:
    """FE201 unknown states, FE202 initial, FE203 final, FE209 final with exits."""
    _transition_states(ctx)
    _deadline_states(ctx)
    _initial_and_final(ctx)


def _transition_states(ctx: _Ctx) -> None:
    p = ctx.process
    for t in p.transitions:
        # `source: "*"` was expanded by the loader to declared states: nothing to report.
        for name, loc in _items(t, "source", t.sources):
            _state_ref(ctx, name, loc, f"transition '{t.trigger}'")
        if t.dest is not None:
            _state_ref(ctx, t.dest, t.at("dest"), f"transition '{t.trigger}'")
    for table in p.decisions.values():
        for row in table.rows:
            _state_ref(ctx, row.dest, row.at("dest"), f"decision '{table.name}'")


def _deadline_states(ctx: _Ctx) -> None:
    p = ctx.process
    for d in p.deadlines.values():
        for part, anchor in (("start", d.start), ("stop", d.stop)):
            for kind in ("enter", "leave"):
                for name, loc in _items(d, f"{part}.{kind}", getattr(anchor, kind)):
                    _state_ref(ctx, name, loc, f"deadline '{d.name}'")
        for name, loc in _items(d, "pause_in", d.pause_in):
            _state_ref(ctx, name, loc, f"deadline '{d.name}'")
    for n in p.notifications.values():
        for name, loc in _items(n, "on.enter", n.on.enter):
            _state_ref(ctx, name, loc, f"notification '{n.name}'")


def _state_ref(ctx: _Ctx, name: str, loc: Location, owner: str) -> None:
    if name not in ctx.process.states:
        ctx.add("FE201", f"unknown state '{name}' in {owner}", loc,
                hint=_unknown_hint(name, ctx.process.states, "states"))


def _initial_and_final(ctx: _Ctx) -> None:
    p = ctx.process
    initial = [s.name for s in p.states.values() if s.initial]
    if not initial:
        ctx.add("FE202", "no initial state: a case would not know where to start",
                p.at("states"), hint="mark one state with initial: true")
    for name in initial[1:]:
        ctx.add("FE202", f"a second initial state '{name}' (the first is '{initial[0]}')",
                _loc(p, f"states.{name}.initial", f"states.{name}"),
                hint="a process has exactly one initial state; remove initial: true here")
    if not p.final_states:
        ctx.add("FE203", "no final state: no case could ever finish", p.at("states"),
                hint="mark the end states with final: true, e.g. archived: {final: true}")
    for t in p.transitions:
        for name, loc in _items(t, "source", t.sources):
            if name in p.final_states:
                ctx.add("FE209", f"'{t.trigger}' leaves the final state '{name}'", loc,
                        hint="a final state ends the case: remove it from source, or drop "
                        "final: true from the state")


def _reachability(ctx: _Ctx) -> None:
    """FE204 unreachable states (error), FE205 states that cannot finish (warning)."""
    p = ctx.process
    if not any(s.initial for s in p.states.values()) or _broken_arrows(p):
        return  # FE201/FE202/FE207 already: reachability would only repeat them
    seen = graph.reachable(p)
    finishing = graph.can_finish(p) if p.final_states else set(p.states)
    for name in p.states:
        loc = _loc(p, f"states.{name}:key", f"states.{name}")
        if name not in seen:
            ctx.add("FE204", f"state '{name}' cannot be reached from the initial state", loc,
                    hint="add a transition with dest: " + name + ", or remove the state")
        elif name not in finishing:
            ctx.add("FE205", f"a case in '{name}' can never reach a final state", loc,
                    "warning", hint="add a transition from it towards a final state, "
                    "or mark it final: true")


def _broken_arrows(p: ProcessDef) -> bool:
    """Whether some transition or table row points at a state or table that does not exist."""
    dests = [t.dest for t in p.transitions if t.dest is not None]
    dests += [row.dest for table in p.decisions.values() for row in table.rows]
    sources = [s for t in p.transitions for s in t.sources]
    routes = [t.route for t in p.transitions if t.route is not None]
    return (any(name not in p.states for name in dests + sources)
            or any(name not in p.decisions for name in routes))


# ----------------------------------------------------------------------------- transitions


def _transitions(ctx: _Ctx) -> None:
    """FE206 shadowed duplicates, FE207 unknown tables, FE211 unknown roles."""
    p = ctx.process
    for j, later in enumerate(p.transitions):
        if later.route is not None and later.route not in p.decisions:
            ctx.add("FE207", f"unknown decision table '{later.route}' in route of "
                    f"'{later.trigger}'", later.at("route"),
                    hint=_unknown_hint(later.route, p.decisions, "decisions"))
        for earlier in p.transitions[:j]:
            shared = [s for s in earlier.sources if s in later.sources]
            if earlier.trigger == later.trigger and shared and _shadows(earlier, later):
                ctx.add("FE206", f"'{later.trigger}' from '{shared[0]}' can never take this "
                        f"transition: the one at line {earlier.location.line} has the same "
                        "trigger and source and nothing that can refuse it, so it always "
                        "fires first", later.at("trigger"),
                        hint="give the first one a guard, or roles/requires that this one "
                        "also has, or merge the two")
                break
    if p.roles:
        _roles(ctx)


def _shadows(first: TransitionDef, second: TransitionDef) -> bool:
    """True when `first` passes whenever `second` does (the engine tries them in order)."""
    if first.guards or first.route is not None:
        return False
    if any(r.when for r in first.requires):
        return False
    needed = {f for r in first.requires for f in r.fields}
    if not needed <= {f for r in second.requires if not r.when for f in r.fields}:
        return False
    if not _records(second) <= _records(first):
        return False  # data only the second records makes the first refuse the fire
    return not first.roles or bool(second.roles) and set(second.roles) <= set(first.roles)


def _accepts(t: TransitionDef) -> tuple[str, ...]:
    """The optional data a fire of `t` may record (`accepts:`)."""
    return tuple(getattr(t, "accepts", ()))


def _records(t: TransitionDef) -> set[str]:
    """Every field a fire of `t` may be given: its requires and its accepts."""
    return {f for r in t.requires for f in r.fields} | set(_accepts(t))


def _roles(ctx: _Ctx) -> None:
    p = ctx.process
    sites: list[tuple[Any, tuple[str, ...], str]] = [(t, t.roles, f"'{t.trigger}'")
                                                     for t in p.transitions]
    sites.append((p.start, p.start.roles, "start"))
    for defn, roles, owner in sites:
        for name, loc in _items(defn, "roles", roles):
            if name not in p.roles:
                ctx.add("FE211", f"unknown role '{name}' in {owner}", loc,
                        hint=_unknown_hint(name, p.roles, "roles"))


# ----------------------------------------------------------------------------- fields


def _field_refs(ctx: _Ctx) -> None:
    """FE210: every place that names a field must name a declared one."""
    p = ctx.process
    for t in p.transitions:
        owner = f"'{t.trigger}'"
        _requirement_refs(ctx, t, t.requires, owner)
        for name in t.set:
            _field_ref(ctx, name, t.at(f"set.{name}:key"), f"set of {owner}")
        for name in t.compute:
            _field_ref(ctx, name, t.at(f"compute.{name}:key"), f"compute of {owner}")
        for name, loc in _items(t, "clear", t.clear):
            _field_ref(ctx, name, loc, f"clear of {owner}")
        for name, loc in _items(t, "accepts", _accepts(t)):
            _field_ref(ctx, name, loc, f"accepts of {owner}")
    _requirement_refs(ctx, p.start, p.start.requires, "start")
    for name, loc in _items(p, "duplicate_key", p.duplicate_key):
        _field_ref(ctx, name, loc, "duplicate_key")
    for table in p.decisions.values():
        if table.input is not None:
            _field_ref(ctx, table.input, table.at("input"), f"decision '{table.name}'")
    for d in p.deadlines.values():
        _deadline_field_refs(ctx, d)


def _requirement_refs(ctx: _Ctx, defn: Any, requires: tuple[Requirement, ...],
                      owner: str) -> None:
    for i, req in enumerate(requires):
        for j, name in enumerate(req.fields):
            loc = _loc(defn, f"requires[{i}].fields[{j}]", f"requires[{i}].fields",
                       f"requires[{i}]")
            _field_ref(ctx, name, loc, f"requires of {owner}")


def _deadline_field_refs(ctx: _Ctx, d: DeadlineDef) -> None:
    owner = f"deadline '{d.name}'"
    if d.due_field is not None:
        loc = _loc(d, "due_field.field", "due_field")
        if _field_ref(ctx, d.due_field.field, loc, f"due_field of {owner}"):
            _field_type(ctx, d.due_field.field, ("date", "datetime"), loc, "a due_field")
    ext = d.extension
    if ext is None:
        return
    loc = _loc(d, "extension.days_field", "extension")
    written = "extension.days_field" in d.locs
    why = "days_field" if written else "days_field (by default 'days')"
    if _field_ref(ctx, ext.days_field, loc, f"extension {why} of {owner}"):
        _field_type(ctx, ext.days_field, ("integer",), loc, "an extension's days_field")
    if ext.reason_field is not None:
        loc = _loc(d, "extension.reason_field", "extension")
        why = "reason_field" if "extension.reason_field" in d.locs else \
            "reason_field (by default 'reason'; write reason_field: null for none)"
        _field_ref(ctx, ext.reason_field, loc, f"extension {why} of {owner}")


def _field_ref(ctx: _Ctx, name: str, loc: Location, owner: str) -> bool:
    if name in ctx.known_fields:
        return True
    ctx.add("FE210", f"unknown field '{name}' in {owner}", loc,
            hint=_unknown_hint(name, ctx.fields, "fields"))
    return False


def _field_type(ctx: _Ctx, name: str, types: tuple[str, ...], loc: Location,
                use: str) -> None:
    f = ctx.fields.get(name)
    if f is not None and f.type not in types:
        ctx.add("FE224", f"field '{name}' is {f.type}, but {use} must be "
                f"{' or '.join(types)}", loc,
                hint=f"point it at {_a(' or '.join(types))} field, or change the field's type")


# ----------------------------------------------------------------------------- values


def value_problem(f: FieldDef, value: Any) -> str | None:
    """Why `value` (as written in the YAML) does not fit field `f`, or None when it does."""
    if value is None:
        return None
    if f.type == "list":
        if not isinstance(value, list):
            return "a list is expected, e.g. [a, b]"
        for item in value:
            why = _scalar_problem(f, f.items or "string", item)
            if why:
                return f"item {item!r}: {why}"
        if f.min_items is not None and len(value) < f.min_items:
            return f"at least {f.min_items} item(s) are needed"
        return None
    return _scalar_problem(f, f.type, value)


def _scalar_problem(f: FieldDef, kind: str, value: Any) -> str | None:  # noqa: C901
    # One branch per type of the language: splitting it would only hide the table.
    if isinstance(value, (dict, list)):
        shape = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind} value is expected, not a {shape}"
    if kind == "boolean":
        return None if isinstance(value, bool) else "write true or false"
    if isinstance(value, bool):
        return f"a {kind} value is expected, not {str(value).lower()}"
    if kind == "enum":
        if value in f.values:
            return None
        near = did_you_mean(str(value), f.values)
        return f"not one of {', '.join(f.values)}" + (f"; {near}" if near else "")
    if kind in ("money", "integer"):
        return _number_problem(f, kind, value)
    if kind == "date":
        return _date_problem(value)
    if kind == "datetime":
        return _datetime_problem(value)
    if f.max_length is not None and len(str(value)) > f.max_length:
        return f"longer than max_length {f.max_length}"
    return None


def _number_problem(f: FieldDef, kind: str, value: Any) -> str | None:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return f"{'an amount' if kind == 'money' else 'a whole number'} is expected"
    if not number.is_finite():
        return "a finite number is expected"
    if kind == "integer" and number != number.to_integral_value():
        return "a whole number is expected"
    if kind == "money" and number.as_tuple().exponent < -2:  # type: ignore[operator]
        return "money has at most 2 decimal places (fen)"
    if f.minimum is not None and number < f.minimum:
        return f"below the field's min {_fmt(f.minimum)}"
    if f.maximum is not None and number > f.maximum:
        return f"above the field's max {_fmt(f.maximum)}"
    return None


def _date_problem(value: Any) -> str | None:
    if isinstance(value, datetime):
        return "a date (YYYY-MM-DD) is expected, not a date and time"
    if isinstance(value, date):
        return None
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return "a date such as 2026-03-02 is expected"
    return None


def _datetime_problem(value: Any) -> str | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return "a date and time with an offset is expected, e.g. 2026-03-02T09:00:00+08:00"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return "a date and time such as 2026-03-02T09:00:00+08:00 is expected"
    if moment.tzinfo is None:
        return "a time zone offset is needed, e.g. 2026-03-02T09:00:00+08:00"
    return None


def _set_values(ctx: _Ctx) -> None:
    """FE215: a literal in `set` must fit its field."""
    for t in ctx.process.transitions:
        for name, value in t.set.items():
            f = ctx.fields.get(name)
            why = value_problem(f, value) if f is not None else None
            if f is not None and why:
                ctx.add("FE215", f"'{t.trigger}' sets {name} ({f.type}) to {value!r}: {why}",
                        t.at(f"set.{name}"), hint="change the value to fit the field")


def _field_defs(ctx: _Ctx) -> None:
    """FE216: defaults that do not fit, min > max, enum without values, list without items."""
    p = ctx.process
    for f in ctx.fields.values():
        where = _loc(p, f"fields.{f.name}:key", f"fields.{f.name}")
        if f.type == "enum" and not f.values:
            ctx.add("FE216", f"enum field '{f.name}' has no values", where,
                    hint="list them: values: [a, b]")
        if f.type == "list" and f.items is None:
            ctx.add("FE216", f"list field '{f.name}' does not say what its items are", where,
                    hint="add items: string, or text, money, integer, boolean, date, datetime")
        if f.minimum is not None and f.maximum is not None and f.minimum > f.maximum:
            ctx.add("FE216", f"field '{f.name}': min {_fmt(f.minimum)} is greater than max "
                    f"{_fmt(f.maximum)}", f.at("min"), hint="swap them")
        elif f.default is not None:
            why = value_problem(f, f.default)
            if why:
                ctx.add("FE216", f"default {f.default!r} of field '{f.name}' ({f.type}): {why}",
                        f.at("default"), hint="change the default to fit the field")


# ----------------------------------------------------------------------------- triggers


def _trigger_refs(ctx: _Ctx) -> None:
    """FE212 unknown triggers in deadlines and notifications; FE214 extension not a self-trigger."""
    p = ctx.process
    for d in p.deadlines.values():
        owner = f"deadline '{d.name}'"
        for part, anchor in (("start", d.start), ("stop", d.stop)):
            for name, loc in _items(d, f"{part}.trigger", anchor.triggers):
                _trigger_ref(ctx, name, loc, owner)
        if d.on_overdue is not None and d.on_overdue.fire is not None:
            _trigger_ref(ctx, d.on_overdue.fire, d.at("on_overdue.fire"), owner)
        if d.extension is not None:
            _extension_trigger(ctx, d)
    for n in p.notifications.values():
        for name, loc in _items(n, "on.trigger", n.on.triggers):
            _trigger_ref(ctx, name, loc, f"notification '{n.name}'")


def _trigger_ref(ctx: _Ctx, name: str, loc: Location, owner: str) -> bool:
    if name in ctx.process.triggers:
        return True
    ctx.add("FE212", f"unknown trigger '{name}' in {owner}", loc,
            hint=_unknown_hint(name, ctx.process.triggers, "transitions"))
    return False


def _extension_trigger(ctx: _Ctx, d: DeadlineDef) -> None:
    assert d.extension is not None
    name, loc = d.extension.trigger, d.at("extension.trigger")
    if not _trigger_ref(ctx, name, loc, f"the extension of deadline '{d.name}'"):
        return
    moving = [t for t in ctx.process.transitions if t.trigger == name and not t.internal]
    if moving:
        ctx.add("FE214", f"extension trigger '{name}' moves the case (line "
                f"{moving[0].location.line} has a dest or route)", loc,
                hint="an extension is recorded by a self-trigger: a transition with no dest "
                "and no route")


# ----------------------------------------------------------------------------- deadlines


def _deadlines(ctx: _Ctx) -> None:
    """FE213 no length, FE222 pause on an hour period, FE223 odd durations, FE401 no action."""
    p = ctx.process
    for d in p.deadlines.values():
        key = _loc(p, f"deadlines.{d.name}:key", f"deadlines.{d.name}")
        if d.length is None and (d.due_field is None or d.due_field.when):
            why = "neither a length nor a due_field" if d.due_field is None else \
                "no length for the cases where due_field's 'when' is false"
            ctx.add("FE213", f"deadline '{d.name}' has {why}", key,
                    hint="add length: N days (or N working days), or due_field: <date field>")
        elif d.length is None and d.due_field is not None and d.due_field.field in ctx.fields \
                and not ctx.fields[d.due_field.field].required:
            ctx.add("FE213", f"deadline '{d.name}' does not run when '{d.due_field.field}' is "
                    "empty (it has no length to fall back on)", key, "warning",
                    hint=f"add length: N days, or make '{d.due_field.field}' required")
        if d.pause_in and d.length is not None and d.length.unit in ("minutes", "hours"):
            ctx.add("FE222", f"deadline '{d.name}' counts {d.length.unit} but pauses in a "
                    "state; a pause is counted in whole days", d.at("pause_in"),
                    hint="give it a length in days or working days, or drop pause_in")
        _durations(ctx, d)
        if d.on_overdue is None:
            ctx.add("FE401", f"deadline '{d.name}' has no on_overdue: what happens when it "
                    "passes is not stated", key, "warning",
                    hint="add on_overdue: {mark: true} to mark the case overdue, or fire: "
                    "<trigger> for a timeout action")


def _durations(ctx: _Ctx, d: DeadlineDef) -> None:
    if d.length is not None and d.length.amount == 0:
        ctx.add("FE223", f"deadline '{d.name}' has a length of 0: it is due when it starts",
                d.at("length"), "warning", hint="give a positive length")
    if d.warn is not None and d.length is not None and d.warn.unit == d.length.unit and \
            d.warn.amount >= d.length.amount:
        ctx.add("FE223", f"deadline '{d.name}' warns {d.warn} before due, which is not less "
                f"than its length {d.length}", d.at("warn"), "warning",
                hint="the warning would go out as soon as the deadline starts; shorten warn")
    ext = d.extension
    if ext and ext.max_total and d.length and ext.max_total.unit != d.length.unit:
        ctx.add("FE223", f"deadline '{d.name}' counts {d.length.unit.replace('_', ' ')} but "
                f"its extension max_total counts {ext.max_total.unit.replace('_', ' ')}",
                d.at("extension.max_total"), "warning",
                hint="write both in the same unit, as the extension adds to the length")


# ----------------------------------------------------------------------------- decisions


def _decisions(ctx: _Ctx) -> None:
    """FE208: rows without a condition, ranges without input, overlaps and gaps."""
    for table in ctx.process.decisions.values():
        ranged = [row for row in table.rows if _has_range(row)]
        for i, row in enumerate(table.rows, 1):
            if not _has_range(row) and not row.when:
                ctx.add("FE208", f"row {i} of decision '{table.name}' has no condition",
                        row.location, hint="give it a range with over, at_least, under or "
                        "at_most, or a when: expression")
        if not ranged:
            continue
        if table.input is None:
            ctx.add("FE208", f"decision '{table.name}' has ranges but no input field",
                    table.location, hint="add input: <money or integer field>")
            continue
        f = ctx.fields.get(table.input)
        if f is None:
            continue  # FE210 already
        if f.type not in ("money", "integer"):
            ctx.add("FE208", f"decision '{table.name}' compares ranges over '{f.name}', a "
                    f"{f.type} field", table.at("input"),
                    hint="ranges need a money or integer input field")
            continue
        _coverage(ctx, table, f)


def _has_range(row: DecisionRow) -> bool:
    return any(v is not None for v in (row.over, row.at_least, row.under, row.at_most))


_INF = Decimal("Infinity")


def _grid(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding) * step


def _span(row: DecisionRow, step: Decimal) -> tuple[Decimal, Decimal]:
    """The closed range [lo, hi] of input values (on the field's grid) a row matches."""
    lo, hi = -_INF, _INF
    if row.over is not None:
        lo = max(lo, _grid(row.over, step, ROUND_FLOOR) + step)
    if row.at_least is not None:
        lo = max(lo, _grid(row.at_least, step, ROUND_CEILING))
    if row.under is not None:
        hi = min(hi, _grid(row.under, step, ROUND_CEILING) - step)
    if row.at_most is not None:
        hi = min(hi, _grid(row.at_most, step, ROUND_FLOOR))
    return lo, hi


def _coverage(ctx: _Ctx, table: DecisionTable, f: FieldDef) -> None:
    step = Decimal("0.01") if f.type == "money" else Decimal(1)
    rows = [(i, row, _span(row, step)) for i, row in enumerate(table.rows, 1)
            if _has_range(row) and not row.when]
    for k, (i, row, (lo, hi)) in enumerate(rows):
        if lo > hi:
            ctx.add("FE208", f"row {i} of decision '{table.name}' matches no value of "
                    f"{f.name}", row.location, "warning", hint="its bounds exclude each other")
            continue
        _overlap(ctx, table, f.name, (i, row, lo, hi), rows[:k])
    if len(rows) == len(table.rows):  # a `when` row may cover what ranges leave open
        _gaps(ctx, table, f, [r for r in rows if r[2][0] <= r[2][1]], step)


def _overlap(ctx: _Ctx, table: DecisionTable, name: str,
             current: tuple[int, DecisionRow, Decimal, Decimal],
             earlier: list[tuple[int, DecisionRow, tuple[Decimal, Decimal]]]) -> None:
    i, row, lo, hi = current
    for j, _, (elo, ehi) in earlier:
        olo, ohi = max(lo, elo), min(hi, ehi)
        if olo > ohi:
            continue
        if (olo, ohi) == (lo, hi):
            msg = f"row {i} of decision '{table.name}' can never match: row {j} takes every " \
                  "value first"
        else:
            msg = f"row {i} of decision '{table.name}' overlaps row {j} for " \
                  f"{_range_text(olo, ohi, name)}; row {j} wins (first match)"
        ctx.add("FE208", msg, row.location, "warning",
                hint="make the bounds meet exactly: over: X after at_most: X, or at_least: X "
                "after under: X")
        return


def _gaps(ctx: _Ctx, table: DecisionTable, f: FieldDef,
          rows: list[tuple[int, DecisionRow, tuple[Decimal, Decimal]]], step: Decimal) -> None:
    dmin = f.minimum if f.minimum is not None else -_INF
    dmax = f.maximum if f.maximum is not None else _INF
    cursor = dmin
    ordered = sorted(rows, key=lambda r: r[2][0])
    for _, row, (lo, hi) in ordered:
        if lo > cursor and not _deliberate(table, cursor, lo - step, dmin, dmax):
            _gap(ctx, table, f.name, cursor, min(lo - step, dmax), row.location)
        cursor = max(cursor, hi + step)
    if cursor.is_finite() and cursor <= dmax and not _deliberate(table, cursor, dmax, dmin, dmax):
        _gap(ctx, table, f.name, cursor, dmax, ordered[-1][1].location)


def _deliberate(table: DecisionTable, lo: Decimal, hi: Decimal, dmin: Decimal,
                dmax: Decimal) -> bool:
    """A strict bound written at the field's own min/max (`over: 0` with min 0) excludes
    that one value on purpose: it would otherwise not need a bound at all."""
    if lo > hi:
        return True
    if lo == hi == dmin:
        return any(r.over == dmin for r in table.rows)
    if lo == hi == dmax:
        return any(r.under == dmax for r in table.rows)
    return False


def _gap(ctx: _Ctx, table: DecisionTable, name: str, lo: Decimal, hi: Decimal,
         loc: Location) -> None:
    ctx.add("FE208", f"decision '{table.name}' has no row for {_range_text(lo, hi, name)}: "
            "routing such a case is refused", loc, "warning",
            hint="add a row, or widen a neighbour's over/at_least/under/at_most")


def _range_text(lo: Decimal, hi: Decimal, name: str) -> str:
    if lo == hi:
        return f"{name} = {_fmt(lo)}"
    if lo.is_infinite():
        return f"{name} <= {_fmt(hi)}"
    if hi.is_infinite():
        return f"{name} >= {_fmt(lo)}"
    return f"{_fmt(lo)} <= {name} <= {_fmt(hi)}"


def row_condition(row: DecisionRow, name: str) -> str:
    """A row's range as people read it: `30000 < claim_amount < 200000` (for diagrams)."""
    low = f"{_fmt(row.over)} < " if row.over is not None else (
        f"{_fmt(row.at_least)} <= " if row.at_least is not None else "")
    high = f" < {_fmt(row.under)}" if row.under is not None else (
        f" <= {_fmt(row.at_most)}" if row.at_most is not None else "")
    if low and not high:  # one bound reads better with the name first
        low, high = "", f" {'>' if row.over is not None else '>='} {low.split()[0]}"
    text = f"{low}{name}{high}" if low or high else ""
    if row.when:
        text = f"{text} and {row.when}" if text else row.when
    return text


# ----------------------------------------------------------------------------- expressions


def expression_functions() -> Mapping[str, Function]:
    """The functions an expression may call: exactly those the engine compiles with
    (`flowengine.expr.FUNCTIONS`, which includes the engine's `within`), so validation
    and runtime can never disagree about a function."""
    return FUNCTIONS


def expressions(process: ProcessDef) -> Iterator[tuple[str, Location, str]]:
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
    for table in process.decisions.values():
        for i, row in enumerate(table.rows, 1):
            if row.when:
                yield row.when, row.at("when"), f"row {i} of decision '{table.name}'"


def _requirement_exprs(defn: Any, requires: tuple[Requirement, ...],
                       what: str) -> Iterator[tuple[str, Location, str]]:
    for i, req in enumerate(requires):
        if req.when:
            yield req.when, _loc(defn, f"requires[{i}].when", f"requires[{i}]"), f"when of {what}"


def _expressions(ctx: _Ctx) -> None:
    """FE301 invalid or forbidden, FE302 unknown name, FE303 unknown function."""
    names = set(ctx.fields) | set(EXPR_BUILTINS)
    functions = expression_functions()
    for text, loc, what in expressions(ctx.process):
        try:
            compile_expr(text, names, functions)
        except ExprError as exc:
            code, message = _classify(exc)
            where = scalar_location(ctx.lines, loc, text, exc.col - 1)
            ctx.add(code, f"{what}: {message}", where, hint=exc.hint)
        except Exception as exc:  # noqa: BLE001 - a compiler bug must not crash validate
            ctx.add("FE301", f"{what}: the expression could not be checked "
                    f"({type(exc).__name__}: {exc})", loc)


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


# ----------------------------------------------------------------------------- columns


def scalar_location(lines: list[str], loc: Location, value: str, offset: int) -> Location:
    """Where character `offset` of the scalar `value` written at `loc` stands.

    Exact for plain and quoted scalars on one line and for simple block scalars (`|`,
    `>-`); anything the mapping cannot confirm against the text falls back to `loc`.
    """
    if offset < 0 or not 1 <= loc.line <= len(lines) or loc.col < 1:
        return loc
    raw = lines[loc.line - 1][loc.col - 1:]
    if raw[:1] in ("'", '"'):
        index = _quoted_index(raw[1:], value, offset, raw[0])
        return loc if index is None else Location(loc.file, loc.line, loc.col + 1 + index)
    if raw[:1] in ("|", ">"):
        return _block_location(lines, loc, value, offset)
    if raw[:offset] == value[:offset] and "\n" not in value[:offset]:
        return Location(loc.file, loc.line, loc.col + offset)
    return loc


def _quoted_index(raw: str, value: str, offset: int, quote: str) -> int | None:
    """The index in `raw` (the text after the opening quote) of value[offset]."""
    i = 0
    for k in range(min(offset, len(value))):
        if i >= len(raw):
            return None
        c = raw[i]
        if quote == "'" and c == "'" and raw[i + 1:i + 2] == "'":
            i += 2
        elif quote == '"' and c == "\\":
            i += 2
        elif c == quote or c != value[k]:
            return None
        else:
            i += 1
    return i


def _block_location(lines: list[str], loc: Location, value: str, offset: int) -> Location:
    first = loc.line  # 0-based index of the line after the indicator
    content: list[str] = []
    indent = None
    for line in lines[first:]:
        if not line.strip():
            break
        width = len(line) - len(line.lstrip(" "))
        if indent is None:
            indent = width
        if width < indent:
            break
        content.append(line[indent:])
    if indent is None:
        return loc
    sep = "\n" if lines[loc.line - 1][loc.col - 1] == "|" else " "
    if sep.join(content) != value.rstrip("\n"):
        return loc
    for n, text in enumerate(content):
        if offset <= len(text):
            return Location(loc.file, first + n + 1, indent + offset + 1)
        offset -= len(text) + 1
    return loc


# ----------------------------------------------------------------------------- notifications


def _notifications(ctx: _Ctx) -> None:
    """FE217 unknown deadline, FE218 bad templates, FE219 unknown recipients."""
    p = ctx.process
    for n in p.notifications.values():
        owner = f"notification '{n.name}'"
        _deadline_event(ctx, n, owner)
        if n.on.deadlines != ("*",):
            for name, loc in _items(n, "on.deadline", n.on.deadlines):
                if name not in p.deadlines:
                    ctx.add("FE217", f"unknown deadline '{name}' in {owner}", loc,
                            hint=_unknown_hint(name, p.deadlines, "deadlines"))
        for i, who in enumerate(n.to):
            _recipient(ctx, who, n.at(f"to[{i}]"), owner)
        for lang, template in n.message.items():
            loc = n.at("message") if lang == "default" and "message.default" not in n.locs \
                else n.at(f"message.{lang}")
            _template(ctx, template, loc, owner)


def _deadline_event(ctx: _Ctx, n: Any, owner: str) -> None:
    """`on.deadline` and `on.event` only work together, and then answer nothing else."""
    on = n.on
    if on.deadlines and on.deadline_event is None:
        ctx.add("FE217", f"{owner} names a deadline but no event, so it never goes out",
                n.at("on.deadline"), hint="add event: warning, overdue, expired, extension, "
                "paused or resumed")
    elif on.deadline_event is not None and not on.deadlines:
        ctx.add("FE217", f"{owner} names a deadline event but no deadline, so it never goes "
                "out", n.at("on.event"), hint='add deadline: <name>, or deadline: "*" for any')
    elif on.deadline_event is not None and (on.started or on.triggers or on.enter):
        ctx.add("FE217", f"{owner} mixes a deadline event with started/trigger/enter, which "
                "are then ignored", n.at("on"), hint="split it into two notifications")


def _recipient(ctx: _Ctx, who: str, loc: Location, owner: str) -> None:
    p = ctx.process
    if who.startswith("field:"):
        name = who[len("field:"):]
        if name not in ctx.fields:
            ctx.add("FE219", f"recipient '{who}' in {owner} names an unknown field", loc,
                    hint=_unknown_hint(name, ctx.fields, "fields"))
        return
    if who in RECIPIENTS or who in p.roles:
        return
    known = [*RECIPIENTS, *p.roles, *(f"field:{f}" for f in ctx.fields)]
    hint = did_you_mean(who, known) or (
        f"field:{who}" if who in ctx.fields else
        "use petitioner, owner, supervisor, a declared role, or field:<field>")
    ctx.add("FE219", f"unknown recipient '{who}' in {owner}", loc, hint=hint)


def template_fields(template: str) -> Iterator[tuple[str, int, str | None]]:
    """(placeholder, offset, problem) for each `{…}` of a message template.

    Raises ValueError for a template that is not well formed (a single brace).
    """
    pos = 0
    for literal, name, spec, _ in string.Formatter().parse(template):
        pos += len(literal)
        if name is None:
            pos += literal[-1:] in ("{", "}")  # an escaped brace is written twice
            continue
        end = _placeholder_end(template, pos)
        yield name, pos, _placeholder_problem(name, spec)
        pos = end


def _placeholder_end(template: str, start: int) -> int:
    depth = 0
    for i in range(start, len(template)):
        depth += {"{": 1, "}": -1}.get(template[i], 0)
        if depth == 0:
            return i + 1
    return len(template)


def _placeholder_problem(name: str, spec: str | None) -> str | None:
    if not name:
        return "an empty placeholder {}: name the value, e.g. {petitioner}"
    if "." in name or "[" in name:
        return f"'{{{name}}}' reads an attribute or an index; only plain names are allowed"
    if spec and "{" in spec:
        return f"'{{{name}:{spec}}}' nests a placeholder in a format; write plain {{{name}}}"
    return None


def _template(ctx: _Ctx, template: str, loc: Location, owner: str) -> None:
    known = set(ctx.fields) | set(TEMPLATE_BUILTINS)
    try:
        found = list(template_fields(template))
    except ValueError as exc:
        ctx.add("FE218", f"message of {owner} is not a valid template: {exc}", loc,
                hint="write {{ and }} for a literal brace")
        return
    for name, offset, why in found:
        where = scalar_location(ctx.lines, loc, template, offset)
        if why:
            ctx.add("FE218", f"message of {owner}: {why}", where,
                    hint="write {field} with a declared field or a built-in: "
                    f"{', '.join(TEMPLATE_BUILTINS)}")
        elif name not in known:
            ctx.add("FE218", f"message of {owner} uses unknown placeholder '{{{name}}}'",
                    where, hint=did_you_mean(name, known) or
                    f"a field of this process or one of {', '.join(TEMPLATE_BUILTINS)}")


# ----------------------------------------------------------------------------- environment


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def _environment(ctx: _Ctx) -> None:
    """FE220 unknown time zone, FE221 missing calendar file."""
    import zoneinfo

    p = ctx.process
    try:
        zoneinfo.ZoneInfo(p.timezone)
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError, OSError …
        ctx.add("FE220", f"unknown time zone '{p.timezone}'", p.at("timezone"),
                hint=did_you_mean(p.timezone, _zones()) or
                "use an IANA name such as Asia/Shanghai")
    base = os.path.dirname(os.path.abspath(ctx.file))
    for i, path in enumerate(p.calendars):
        if not os.path.isfile(path):
            written = os.path.relpath(path, base)
            ctx.add("FE221", f"calendar file '{written}' does not exist",
                    p.at(f"calendars[{i}]"), hint="calendar paths are relative to the process "
                    "file; add the file or fix the path")


# ----------------------------------------------------------------------------- lint


def _open_roles(ctx: _Ctx) -> None:
    """FE402: with roles declared, a trigger anyone may fire is probably an oversight."""
    if not ctx.process.roles:
        return
    for t in ctx.process.transitions:
        if not t.roles:
            ctx.add("FE402", f"any role may fire '{t.trigger}'", t.at("trigger"), "warning",
                    hint=f"add roles: [...] from {', '.join(ctx.process.roles)}")


def _provides(t: TransitionDef) -> set[str]:
    provided = {f for r in t.requires if not r.when for f in r.fields}
    provided |= {name for name, value in t.set.items() if value is not None}
    provided |= set(t.compute)
    if t.signs:
        provided.add(SIGNATURES)
    return provided


def guaranteed_fields(process: ProcessDef) -> dict[str, set[str]]:
    """state -> the fields that hold a value on every path from the start to that state."""
    universe = set(process.fields) | {SIGNATURES}
    start = {f.name for f in process.fields.values() if f.required or f.default is not None}
    start |= {f for r in process.start.requires if not r.when for f in r.fields}
    seen = graph.reachable(process)
    have = {s: set(universe) for s in seen}
    for s in process.states.values():
        if s.initial:
            have[s.name] = set(start)
    moves = [(e.source, e.dest, e.transition) for e in graph.edges(process)]
    moves += [(s, s, t) for s, t in graph.self_triggers(process)]
    changed = True
    while changed:
        changed = False
        for source, dest, t in moves:
            if source not in seen:
                continue
            out = (have[source] | _provides(t)) - set(t.clear)
            if not have[dest] <= out:
                have[dest] &= out
                changed = True
    return have


def _closure_fields(ctx: _Ctx) -> None:
    """FE403: a way into a state that may lack the fields the state `requires` (the engine
    would refuse it at run time), and end states entered with different records that do not
    say which fields a finished case must hold."""
    p = ctx.process
    have = guaranteed_fields(p)
    ends = p.final_states | graph.closing_states(p)
    entering: dict[str, list[graph.Edge]] = {}
    for e in graph.edges(p):
        if e.source != e.dest and e.source in have:
            entering.setdefault(e.dest, []).append(e)
    for state, into in entering.items():
        declared = {f for r in p.states[state].requires if not r.when for f in r.fields}
        if declared:
            _entry_gaps(ctx, state, into, declared, have)
        elif state in ends:
            _end_record_gaps(ctx, state, into, have)


def _entry_gaps(ctx: _Ctx, state: str, into: list[graph.Edge], declared: set[str],
                have: Mapping[str, set[str]]) -> None:
    for e in into:
        t = e.transition
        missing = declared - ((have[e.source] | _provides(t)) - set(t.clear))
        if missing:
            names = ", ".join(sorted(missing))
            ctx.add("FE403", f"'{t.trigger}' from '{e.source}' can enter '{state}' without "
                    f"{names}, which '{state}' requires (the engine refuses it then)",
                    t.at("trigger"), "warning",
                    hint=f"add {names} to its requires, or make sure an earlier step records it")


def _end_record_gaps(ctx: _Ctx, state: str, into: list[graph.Edge],
                     have: Mapping[str, set[str]]) -> None:
    needs = {id(e.transition): {f for r in e.transition.requires if not r.when
                                for f in r.fields} for e in into}
    reported: set[int] = set()
    for e in into:
        t = e.transition
        if id(t) in reported:
            continue
        got = (have[e.source] | _provides(t)) - set(t.clear)
        missing, others = _missing(into, needs, got, t)
        if missing:
            reported.add(id(t))
            ctx.add("FE403", f"'{t.trigger}' from '{e.source}' reaches '{state}' without "
                    f"{', '.join(sorted(missing))}, which {others} to reach it",
                    t.at("trigger"), "warning",
                    hint=f"say what a case must hold there: states: {{{state}: {{requires: "
                    f"[...]}}}}, and require those fields on every way in")


def _missing(into: list[graph.Edge], needs: Mapping[int, set[str]], got: set[str],
             t: TransitionDef) -> tuple[set[str], str]:
    """The fields other transitions into the same state require and `t` may lack."""
    missing: set[str] = set()
    by: list[str] = []
    for e in into:
        lacking = needs[id(e.transition)] - got
        if e.transition is not t and lacking:
            missing |= lacking
            by += [] if e.transition.trigger in by else [e.transition.trigger]
    names = " and ".join(f"'{b}'" for b in by)
    return missing, f"{names} require{'s' if len(by) == 1 else ''}"


_CHECKS: tuple[Callable[[_Ctx], None], ...] = (
    _states, _reachability, _transitions, _field_refs, _set_values, _field_defs,
    _trigger_refs, _deadlines, _decisions, _expressions, _notifications, _environment,
    _open_roles, _closure_fields,
)
