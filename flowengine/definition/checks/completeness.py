"""FE403: which fields hold a value on every path to a state, so that a way into a state
that may lack what the state requires, or end states reached with different records, is
shown at load instead of being refused at run time."""

from __future__ import annotations

from collections.abc import Mapping

from .. import graph
from ..model import ProcessDef, TransitionDef
from .context import SIGNATURES, Context, unconditional_fields


def _provides(t: TransitionDef) -> set[str]:
    provided = unconditional_fields(t.requires)
    provided |= {name for name, value in t.set.items() if value is not None}
    provided |= set(t.compute)
    if t.signs:
        provided.add(SIGNATURES)
    return provided


def _held_after(held: set[str], t: TransitionDef) -> set[str]:
    """The fields that hold a value after `t` fires from a state where `held` do."""
    return (held | _provides(t)) - set(t.clear)


def guaranteed_fields(process: ProcessDef) -> dict[str, set[str]]:
    """state -> the fields that hold a value on every path from the start to that state."""
    universe = set(process.fields) | {SIGNATURES}
    start = {f.name for f in process.fields.values() if f.required or f.default is not None}
    start |= unconditional_fields(process.start.requires)
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
            out = _held_after(have[source], t)
            if not have[dest] <= out:
                have[dest] &= out
                changed = True
    return have


def closure_fields(ctx: Context) -> None:
    """FE403: a way into a state that may lack the fields the state `requires` (the engine
    would refuse it at run time), and end states entered with different records that do not
    say which fields a finished case must hold. A state that declares `requires` at all
    (`requires: []`, or only conditional entries) has said so: no end-record warning."""
    p = ctx.process
    have = guaranteed_fields(p)
    ends = p.final_states | graph.closing_states(p)
    entering: dict[str, list[graph.Edge]] = {}
    for e in graph.edges(p):
        if e.source != e.dest and e.source in have:
            entering.setdefault(e.dest, []).append(e)
    for state, into in entering.items():
        declared = unconditional_fields(p.states[state].requires)
        if declared:
            _entry_gaps(ctx, state, into, declared, have)
        elif state in ends and f"states.{state}.requires" not in p.locs:
            _end_record_gaps(ctx, state, into, have)


def _entry_gaps(ctx: Context, state: str, into: list[graph.Edge], declared: set[str],
                have: Mapping[str, set[str]]) -> None:
    for e in into:
        t = e.transition
        missing = declared - _held_after(have[e.source], t)
        if missing:
            names = ", ".join(sorted(missing))
            ctx.add("FE403", f"'{t.trigger}' from '{e.source}' can enter '{state}' without "
                    f"{names}, which '{state}' requires (the engine refuses it then)",
                    t.at("trigger"), "warning",
                    hint=f"add {names} to its requires, or make sure an earlier step records it")


def _end_record_gaps(ctx: Context, state: str, into: list[graph.Edge],
                     have: Mapping[str, set[str]]) -> None:
    needs = {id(e.transition): unconditional_fields(e.transition.requires) for e in into}
    reported: set[int] = set()
    for e in into:
        t = e.transition
        if id(t) in reported:
            continue
        got = _held_after(have[e.source], t)
        missing, others = _missing(into, needs, got, t)
        if missing:
            reported.add(id(t))
            ctx.add("FE403", f"'{t.trigger}' from '{e.source}' reaches '{state}' without "
                    f"{', '.join(sorted(missing))}, which {others} to reach it",
                    t.at("trigger"), "warning",
                    hint=f"say what a case must hold there: states: {{{state}: {{requires: "
                    f"[...]}}}} (requires: [] if nothing), and require those fields on "
                    f"every way in")


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
