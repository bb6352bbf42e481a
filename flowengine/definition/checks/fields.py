"""Fields as the rest of the definition uses them: a name that refers to a field names a
declared one of a fitting type (FE210, FE224), and the values written for a field fit it
(FE215, FE216), so a typo or a wrong literal is refused at load rather than at a fire."""

from __future__ import annotations

from typing import Any

from ...errors import Location
from ..model import DeadlineDef, Requirement
from .context import (
    SIGNATURES,
    Context,
    location_of,
    number_text,
    unknown_hint,
    with_locations,
)
from .values import value_problem


def field_refs(ctx: Context) -> None:
    """FE210: every place that names a field must name a declared one."""
    p = ctx.process
    for t in p.transitions:
        owner = f"'{t.trigger}'"
        _requirement_refs(ctx, t, t.requires, owner)
        for name in t.set:
            _field_ref(ctx, name, t.at(f"set.{name}:key"), f"set of {owner}")
        for name in t.compute:
            _field_ref(ctx, name, t.at(f"compute.{name}:key"), f"compute of {owner}")
        for name, loc in with_locations(t, "clear", t.clear):
            _field_ref(ctx, name, loc, f"clear of {owner}")
        for name, loc in with_locations(t, "accepts", t.accepts):
            _field_ref(ctx, name, loc, f"accepts of {owner}")
    _start_refs(ctx)
    _duplicate_refs(ctx)
    for table in p.decisions.values():
        if table.input is not None:
            _field_ref(ctx, table.input, table.at("input"), f"decision '{table.name}'")
    for d in p.deadlines.values():
        _deadline_field_refs(ctx, d)


def list_refs(ctx: Context) -> None:
    """FE210: a duty list's columns are declared fields."""
    for x in ctx.process.lists.values():
        for name, loc in with_locations(x, "columns", x.columns):
            _field_ref(ctx, name, loc, f"list '{x.name}'")


def _duplicate_refs(ctx: Context) -> None:
    """`duplicate_key` names fields; `duplicate_flag.field` a boolean one (FE210, FE224)."""
    p = ctx.process
    for name, loc in with_locations(p, "duplicate_key", p.duplicate_key):
        _field_ref(ctx, name, loc, "duplicate_key")
    if p.duplicate_flag is not None:
        name, loc = p.duplicate_flag.field, p.at("duplicate_flag.field")
        if _field_ref(ctx, name, loc, "duplicate_flag"):
            _field_type(ctx, name, ("boolean",), loc, "the duplicate_flag field")


def _start_refs(ctx: Context) -> None:
    start = ctx.process.start
    _requirement_refs(ctx, start, start.requires, "start")
    for name, loc in with_locations(start, "accepts", start.accepts):
        _field_ref(ctx, name, loc, "accepts of start")


def _requirement_refs(ctx: Context, defn: Any, requires: tuple[Requirement, ...],
                      owner: str) -> None:
    for i, req in enumerate(requires):
        for j, name in enumerate(req.fields):
            loc = location_of(defn, f"requires[{i}].fields[{j}]", f"requires[{i}].fields",
                              f"requires[{i}]")
            _field_ref(ctx, name, loc, f"requires of {owner}")


def _deadline_field_refs(ctx: Context, d: DeadlineDef) -> None:
    owner = f"deadline '{d.name}'"
    if d.due_field is not None:
        loc = location_of(d, "due_field.field", "due_field")
        if _field_ref(ctx, d.due_field.field, loc, f"due_field of {owner}"):
            _field_type(ctx, d.due_field.field, ("date", "datetime"), loc, "a due_field")
    ext = d.extension
    if ext is None:
        return
    loc = location_of(d, "extension.days_field", "extension")
    written = "extension.days_field" in d.locs
    why = "days_field" if written else "days_field (by default 'days')"
    if _field_ref(ctx, ext.days_field, loc, f"extension {why} of {owner}"):
        _field_type(ctx, ext.days_field, ("integer",), loc, "an extension's days_field")
    if ext.reason_field is not None:
        loc = location_of(d, "extension.reason_field", "extension")
        why = "reason_field" if "extension.reason_field" in d.locs else \
            "reason_field (by default 'reason'; write reason_field: null for none)"
        _field_ref(ctx, ext.reason_field, loc, f"extension {why} of {owner}")


def _field_ref(ctx: Context, name: str, loc: Location, owner: str) -> bool:
    if name in ctx.known_fields:
        return True
    ctx.add("FE210", f"unknown field '{name}' in {owner}", loc,
            hint=unknown_hint(name, ctx.fields, "fields"))
    return False


def _field_type(ctx: Context, name: str, types: tuple[str, ...], loc: Location,
                use: str) -> None:
    f = ctx.fields.get(name)
    if f is not None and f.type not in types:
        ctx.add("FE224", f"field '{name}' is {f.type}, but {use} must be "
                f"{' or '.join(types)}", loc,
                hint=f"point it at {_a(' or '.join(types))} field, or change the field's type")


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def set_values(ctx: Context) -> None:
    """FE215: a literal in `set` must fit its field."""
    for t in ctx.process.transitions:
        for name, value in t.set.items():
            f = ctx.fields.get(name)
            why = value_problem(f, value) if f is not None else None
            if f is not None and why:
                ctx.add("FE215", f"'{t.trigger}' sets {name} ({f.type}) to {value!r}: {why}",
                        t.at(f"set.{name}"), hint="change the value to fit the field")


def field_defs(ctx: Context) -> None:
    """FE216: defaults that do not fit, min > max, enum without values, list without items,
    a value title for a value the field does not have."""
    p = ctx.process
    for f in ctx.fields.values():
        where = location_of(p, f"fields.{f.name}:key", f"fields.{f.name}")
        if f.type == "enum" and not f.values:
            ctx.add("FE216", f"enum field '{f.name}' has no values", where,
                    hint="list them: values: [a, b]")
        for value in f.value_titles:
            if value not in f.values:
                ctx.add("FE216", f"field '{f.name}' has a title for '{value}', which is not one "
                        f"of its values", f.at(f"value_titles.{value}:key"),
                        hint=unknown_hint(value, f.values, "values"))
        if f.type == "list" and f.items is None:
            ctx.add("FE216", f"list field '{f.name}' does not say what its items are", where,
                    hint="add items: string, or text, money, integer, boolean, date, datetime")
        if f.minimum is not None and f.maximum is not None and f.minimum > f.maximum:
            ctx.add("FE216", f"field '{f.name}': min {number_text(f.minimum)} is greater than max "
                    f"{number_text(f.maximum)}", f.at("min"), hint="swap them")
        elif f.default is not None:
            why = value_problem(f, f.default)
            if why:
                ctx.add("FE216", f"default {f.default!r} of field '{f.name}' ({f.type}): {why}",
                        f.at("default"), hint="change the default to fit the field")


RESERVED_FIELDS = (SIGNATURES, "duplicate_of", "state")  # the engine's own names


def engine_written(ctx: Context) -> None:
    """FE225: a start can never be given what the engine writes itself (signatures, a
    computed field), and a field cannot take a name the engine uses for its own values."""
    p = ctx.process
    for name in RESERVED_FIELDS:
        if name in p.fields:
            ctx.add("FE225", f"field name '{name}' is the engine's own", location_of(
                p, f"fields.{name}:key", f"fields.{name}"), hint="rename the field")
    given = [(n, p.at(f"fields.{n}.required"), "is required at start")
             for n, f in p.fields.items() if f.required]
    given += [(n, loc, "is in start.accepts")
              for n, loc in with_locations(p.start, "accepts", p.start.accepts)]
    for name, loc, how in given:
        if name == SIGNATURES or name in p.computed_by:
            by = (f"'{p.computed_by[name]}' computes it" if name in p.computed_by
                  else "only a fire with signs: true adds to it")
            ctx.add("FE225", f"field '{name}' {how}, but {by}: a start can never be given it",
                    loc, hint="remove it from what the start records")
