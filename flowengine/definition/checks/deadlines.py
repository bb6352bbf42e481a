"""Deadlines and the time they are counted in: each deadline can run and says what happens
when it passes (FE213, FE222, FE223, FE401), a `supersede` that does not overlap `stop`
(FE229), the triggers deadlines and notifications name
exist and an extension does not move the case (FE212, FE214), and the time zone and
calendar files the counting relies on are there (FE220, FE221)."""

from __future__ import annotations

from functools import lru_cache

from ...errors import Location, did_you_mean
from ..model import DeadlineDef
from .context import Context, location_of, unknown_hint, with_locations


def trigger_refs(ctx: Context) -> None:
    """FE212 unknown triggers in deadlines and notifications; FE214 extension not a self-trigger."""
    p = ctx.process
    for d in p.deadlines.values():
        owner = f"deadline '{d.name}'"
        for part, anchor in d.anchors:
            for name, loc in with_locations(d, f"{part}.trigger", anchor.triggers):
                _trigger_ref(ctx, name, loc, owner)
        if d.on_overdue is not None and d.on_overdue.fire is not None:
            _trigger_ref(ctx, d.on_overdue.fire, d.at("on_overdue.fire"), owner)
        if d.extension is not None:
            _extension_trigger(ctx, d)
    for n in p.notifications.values():
        for name, loc in with_locations(n, "on.trigger", n.on.triggers):
            _trigger_ref(ctx, name, loc, f"notification '{n.name}'")


def _trigger_ref(ctx: Context, name: str, loc: Location, owner: str) -> bool:
    if name in ctx.process.triggers:
        return True
    ctx.add("FE212", f"unknown trigger '{name}' in {owner}", loc,
            hint=unknown_hint(name, ctx.process.triggers, "transitions"))
    return False


def _extension_trigger(ctx: Context, d: DeadlineDef) -> None:
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


def deadlines(ctx: Context) -> None:
    """FE213 no length, FE222 pause on an hour period, FE223 odd durations, FE401 no action."""
    p = ctx.process
    for d in p.deadlines.values():
        key = location_of(p, f"deadlines.{d.name}:key", f"deadlines.{d.name}")
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
        _supersede_overlap(ctx, d)
        if d.on_overdue is None:
            ctx.add("FE401", f"deadline '{d.name}' has no on_overdue: what happens when it "
                    "passes is not stated", key, "warning",
                    hint="add on_overdue: {mark: true} to mark the case overdue, or fire: "
                    "<trigger> for a timeout action")


def _durations(ctx: Context, d: DeadlineDef) -> None:
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


def _supersede_overlap(ctx: Context, d: DeadlineDef) -> None:
    """FE229: one event cannot both meet a deadline and supersede it."""
    if d.supersede is None:
        return
    for kind, what in (("triggers", "trigger"), ("enter", "enter"), ("leave", "leave")):
        both = sorted(set(getattr(d.stop, kind)) & set(getattr(d.supersede, kind)))
        if both:
            ctx.add("FE229", f"deadline '{d.name}' both stops and supersedes on {what} "
                    f"{', '.join(both)}", d.at(f"supersede.{what}"),
                    hint="a step either meets the deadline (stop) or ends it as superseded "
                    "(supersede); name it in one of the two")
    if d.supersede.started:
        ctx.add("FE229", f"deadline '{d.name}' supersedes on 'started': it would end before "
                "it runs", d.at("supersede.started"), hint="name the trigger or state that "
                "takes the matter out of this deadline's hands")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def environment(ctx: Context) -> None:
    """FE220 unknown time zone. (Calendar files, FE221/FE230/FE231, are read and checked
    by the loader: definition/calendars.py.)"""
    import zoneinfo

    p = ctx.process
    try:
        zoneinfo.ZoneInfo(p.timezone)
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError, OSError …
        ctx.add("FE220", f"unknown time zone '{p.timezone}'", p.at("timezone"),
                hint=did_you_mean(p.timezone, _zones()) or
                "use an IANA name such as Asia/Shanghai")

