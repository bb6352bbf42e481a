"""States and the transitions between them: whether a case can start, move and finish
(FE201–FE207, FE209) and who may fire a transition (FE211, FE402). Reachability is skipped
while an arrow points nowhere, so one misspelt name is reported once, not again as a lost
state."""

from __future__ import annotations

from typing import Any

from ...errors import Location
from .. import graph
from ..model import ProcessDef, TransitionDef
from .context import Context, location_of, unconditional_fields, unknown_hint, with_locations


def states(ctx: Context) -> None:
    """FE201 unknown states, FE202 initial, FE203 final, FE209 final with exits."""
    _transition_states(ctx)
    _deadline_states(ctx)
    _initial_and_final(ctx)


def _transition_states(ctx: Context) -> None:
    p = ctx.process
    for t in p.transitions:
        # `source: "*"` was expanded by the loader to declared states: nothing to report.
        for name, loc in with_locations(t, "source", t.sources):
            _state_ref(ctx, name, loc, f"transition '{t.trigger}'")
        if t.dest is not None:
            _state_ref(ctx, t.dest, t.at("dest"), f"transition '{t.trigger}'")
    for table in p.decisions.values():
        for row in table.rows:
            _state_ref(ctx, row.dest, row.at("dest"), f"decision '{table.name}'")


def _deadline_states(ctx: Context) -> None:
    p = ctx.process
    for d in p.deadlines.values():
        for part, anchor in d.anchors:
            for kind in ("enter", "leave"):
                for name, loc in with_locations(d, f"{part}.{kind}", getattr(anchor, kind)):
                    _state_ref(ctx, name, loc, f"deadline '{d.name}'")
        for name, loc in with_locations(d, "pause_in", d.pause_in):
            _state_ref(ctx, name, loc, f"deadline '{d.name}'")
    for n in p.notifications.values():
        for name, loc in with_locations(n, "on.enter", n.on.enter):
            _state_ref(ctx, name, loc, f"notification '{n.name}'")


def _state_ref(ctx: Context, name: str, loc: Location, owner: str) -> None:
    if name not in ctx.process.states:
        ctx.add("FE201", f"unknown state '{name}' in {owner}", loc,
                hint=unknown_hint(name, ctx.process.states, "states"))


def _initial_and_final(ctx: Context) -> None:
    p = ctx.process
    initial = [s.name for s in p.states.values() if s.initial]
    if not initial:
        ctx.add("FE202", "no initial state: a case would not know where to start",
                p.at("states"), hint="mark one state with initial: true")
    for name in initial[1:]:
        ctx.add("FE202", f"a second initial state '{name}' (the first is '{initial[0]}')",
                location_of(p, f"states.{name}.initial", f"states.{name}"),
                hint="a process has exactly one initial state; remove initial: true here")
    if not p.final_states:
        ctx.add("FE203", "no final state: no case could ever finish", p.at("states"),
                hint="mark the end states with final: true, e.g. archived: {final: true}")
    for t in p.transitions:
        for name, loc in with_locations(t, "source", t.sources):
            if name in p.final_states:
                ctx.add("FE209", f"'{t.trigger}' leaves the final state '{name}'", loc,
                        hint="a final state ends the case: remove it from source, or drop "
                        "final: true from the state")


def reachability(ctx: Context) -> None:
    """FE204 unreachable states (error), FE205 states that cannot finish (warning)."""
    p = ctx.process
    if not any(s.initial for s in p.states.values()) or _broken_arrows(p):
        return  # FE201/FE202/FE207 already: reachability would only repeat them
    seen = graph.reachable(p)
    finishing = graph.can_finish(p) if p.final_states else set(p.states)
    for name in p.states:
        loc = location_of(p, f"states.{name}:key", f"states.{name}")
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


def transitions(ctx: Context) -> None:
    """FE206 shadowed duplicates, FE207 unknown tables, FE211 unknown roles."""
    p = ctx.process
    for j, later in enumerate(p.transitions):
        if later.route is not None and later.route not in p.decisions:
            ctx.add("FE207", f"unknown decision table '{later.route}' in route of "
                    f"'{later.trigger}'", later.at("route"),
                    hint=unknown_hint(later.route, p.decisions, "decisions"))
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
    if not needed <= unconditional_fields(second.requires):
        return False
    if not second.records <= first.records:
        return False  # data only the second records makes the first refuse the fire
    return not first.roles or bool(second.roles) and set(second.roles) <= set(first.roles)


def _roles(ctx: Context) -> None:
    p = ctx.process
    sites: list[tuple[Any, tuple[str, ...], str]] = [(t, t.roles, f"'{t.trigger}'")
                                                     for t in p.transitions]
    sites.append((p.start, p.start.roles, "start"))
    for defn, roles, owner in sites:
        for name, loc in with_locations(defn, "roles", roles):
            if name not in p.roles:
                ctx.add("FE211", f"unknown role '{name}' in {owner}", loc,
                        hint=unknown_hint(name, p.roles, "roles"))


def open_roles(ctx: Context) -> None:
    """FE402: with roles declared, a trigger anyone may fire is probably an oversight."""
    if not ctx.process.roles:
        return
    for t in ctx.process.transitions:
        if not t.roles:
            ctx.add("FE402", f"any role may fire '{t.trigger}'", t.at("trigger"), "warning",
                    hint=f"add roles: [...] from {', '.join(ctx.process.roles)}")
