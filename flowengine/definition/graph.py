"""Pure walks over the state graph of a `ProcessDef`, shared by the checks and the diagrams.

The validator asks "which states can a case reach?" and "from which states can a case
still finish?"; the diagram asks "which arrows are there?". Both must see the same arrows,
or a diagram would show a path the validator called impossible, so the edges are computed
here once: one edge per transition and source, and for a `route` one edge per row of the
decision table (the engine tries the rows in order). Self-triggers (no `dest`, no `route`)
record data and never move a case, so they are not edges of the graph; `self_triggers`
lists them for the diagram. Nothing here reports problems: a reference to an unknown
state or table is simply skipped (the checks report it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import DecisionRow, ProcessDef, TransitionDef


@dataclass(frozen=True)
class Edge:
    """An arrow `source -> dest` made by `transition` (and `row` when routed by a table)."""

    source: str
    dest: str
    transition: TransitionDef
    row: DecisionRow | None = None


def edges(process: ProcessDef) -> list[Edge]:
    """Every arrow between known states, in the order of the YAML."""
    out: list[Edge] = []
    for t in process.transitions:
        for source in t.sources:
            if source not in process.states:
                continue
            out.extend(e for e in _edges_of(process, t, source) if e.dest in process.states)
    return out


def _edges_of(process: ProcessDef, t: TransitionDef, source: str) -> Iterable[Edge]:
    if t.dest is not None:
        yield Edge(source, t.dest, t)
    elif t.route is not None and t.route in process.decisions:
        for row in process.decisions[t.route].rows:
            yield Edge(source, row.dest, t, row)


def self_triggers(process: ProcessDef) -> list[tuple[str, TransitionDef]]:
    """(state, transition) for every self-trigger on a known state, in YAML order."""
    return [(s, t) for t in process.transitions if t.internal
            for s in t.sources if s in process.states]


def successors(process: ProcessDef) -> dict[str, set[str]]:
    """state -> the states one transition away (self-loops by `dest` included)."""
    out: dict[str, set[str]] = {name: set() for name in process.states}
    for e in edges(process):
        out[e.source].add(e.dest)
    return out


def _reverse(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {name: set() for name in graph}
    for source, dests in graph.items():
        for dest in dests:
            out.setdefault(dest, set()).add(source)
    return out


def walk(graph: Mapping[str, Iterable[str]], start: Iterable[str]) -> set[str]:
    """Every node reachable from `start` (included) in `graph`, breadth first."""
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def reachable(process: ProcessDef) -> set[str]:
    """States a case can reach from an initial state (empty when there is none)."""
    initial = [s.name for s in process.states.values() if s.initial]
    return walk(successors(process), initial)


def can_finish(process: ProcessDef) -> set[str]:
    """States from which some path leads to a final state (finals included)."""
    return walk(_reverse(successors(process)), process.final_states)


def closing_states(process: ProcessDef) -> set[str]:
    """Non-final states that move only to final states, like `closed` -> `archived`.

    Such a state is where a case is, in substance, finished; FE403 compares what the
    transitions entering it require, as it does for final states.
    """
    graph = successors(process)
    finals = process.final_states
    return {name for name, dests in graph.items()
            if name not in finals and dests and dests <= finals}
