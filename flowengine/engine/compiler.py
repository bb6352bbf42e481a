"""Compile a `ProcessDef` once into what firing needs: one shared `transitions.Machine`,
its dispatch table, compiled expressions, and lookup tables. Every case of that definition
version shares it.

The Machine is the process's state graph: `transitions` builds and checks it (every source
and dest a declared state, the order of the transitions each trigger may take from each
state, internal transitions), with our conditions attached to each of its transitions;
`machine.events[trigger].trigger(Cursor(state), plan=plan)` runs a fire through it.

The engine reads the Machine's own table instead of calling `Event.trigger` per fire:
`candidates[trigger][state]` lists, in the Machine's order (`Machine.get_transitions`,
read once per definition version), the transitions it would try,
and the planner takes the first whose conditions pass — the same rule as
`Event._process` (first passing transition wins). Measured on the peer reference process,
`Event.trigger` (EventData, callback resolution, the state lookup and `set_state` on the
cursor, debug logging) was ~40 % of a whole in-memory fire, more than the event, its hash
and the fold together. A property test (tests/property/test_dispatch_matches_machine.py)
pins that both paths choose the same transition and refuse the same fires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from transitions import Machine

from ..definition.model import (
    DeadlineDef,
    DecisionRow,
    DecisionTable,
    ProcessDef,
    Requirement,
    TransitionDef,
)
from ..expr import Expr, compile_expr
from .data import coerce_all
from .start_data import start_records

if TYPE_CHECKING:
    from .notify import Notices  # which imports this module
    from .planner import Planner  # which imports this module


@dataclass
class Cursor:
    """A model holding only `.state`, for running a fire through the Machine itself
    (`machine.events[trigger].trigger(Cursor(state), plan=plan)`), as the dispatch property
    test does; the engine reads `candidates` instead."""

    state: str


@dataclass(frozen=True)
class Candidate:
    """One transition a trigger may take from a state: the definition's transition, the
    dest of this candidate, and for a routed transition the decision-table row that must
    match (a routed transition is one candidate per row, in row order)."""

    transition: TransitionDef
    dest: str | None  # None: an internal transition (the state stays)
    table: DecisionTable | None = None
    row: DecisionRow | None = None
    # nothing to check unless data is given: no role, requirement, guard, row or extension
    # limit (set per version once the extensions are known; the planner takes it at once)
    plain: bool = False


@dataclass
class CompiledProcess:
    process: ProcessDef
    calendar: Any  # flowengine.calendar.base.Calendar
    tz: ZoneInfo = field(init=False)
    machine: Machine = field(init=False)
    exprs: dict[str, Expr] = field(init=False, default_factory=dict)
    extensions: dict[str, list[DeadlineDef]] = field(init=False, default_factory=dict)
    final_states: frozenset[str] = field(init=False)
    extension_fields: dict[str, frozenset[str]] = field(init=False, default_factory=dict)
    candidates: dict[str, dict[str, tuple[Candidate, ...]]] = field(init=False, default_factory=dict)
    start_defaults: dict[str, Any] = field(init=False, default_factory=dict)
    start_requires: tuple[Requirement, ...] = field(init=False, default=())
    start_records: frozenset[str] = field(init=False, default=frozenset())
    # the planner of this version (`planner.Planner.of`), made on first use
    planner: Planner | None = field(init=False, default=None, repr=False, compare=False)
    # which notifications answer which step of this version (`notify.notices`), on first use
    notices: Notices | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        p = self.process
        self.tz = ZoneInfo(p.timezone)
        self.final_states = p.final_states
        self._names = frozenset(p.fields) | {"state", "signatures"}
        self.machine = Machine(
            model=None, states=list(p.states), initial=p.initial_state,
            auto_transitions=False, send_event=True, ignore_invalid_triggers=False,
        )
        made: dict[int, Candidate] = {}
        for t in p.transitions:
            self._add(t, made)
        # the Machine's own table, read once through its public API
        for source in p.states:
            for trigger in self.machine.get_triggers(source):
                trs = self.machine.get_transitions(trigger, source)
                if trs:
                    self.candidates.setdefault(trigger, {})[source] = tuple(
                        made[id(tr)] for tr in trs)
        for d in p.deadlines.values():
            if d.extension is not None:
                ext = d.extension
                self.extensions.setdefault(ext.trigger, []).append(d)
                names = {ext.days_field} | ({ext.reason_field} if ext.reason_field else set())
                self.extension_fields[ext.trigger] = self.extension_fields.get(
                    ext.trigger, frozenset()) | names
        for by_source in self.candidates.values():
            for source, found in by_source.items():
                by_source[source] = tuple(replace(c, plain=self._plain(c)) for c in found)
        self._compile_all()
        # what every start merges and checks: the declared defaults (typed, loaded checked
        # by FE216) and the fields marked required, then `start.requires`
        self.start_defaults = coerce_all(p.fields, {n: f.default for n, f in p.fields.items()
                                                    if f.default is not None})
        self.start_requires = (Requirement(tuple(n for n, f in p.fields.items() if f.required),
                                           p.location),) + p.start.requires
        self.start_records = start_records(p)

    def _plain(self, c: Candidate) -> bool:
        t = c.transition
        return (c.row is None and not (t.roles or t.requires or t.guards)
                and t.trigger not in self.extensions)

    # ------------------------------------------------------------------ expressions
    def expr(self, text: str) -> Expr:
        """The compiled expression for `text` (compiled once, at load)."""
        found = self.exprs.get(text)
        if found is None:
            found = self.exprs[text] = compile_expr(text, self._names)
        return found

    def _compile_all(self) -> None:
        p = self.process
        texts: list[str] = []
        for t in p.transitions:
            texts += [g.expr for g in t.guards] + list(t.compute.values())
            texts += [r.when for r in t.requires if r.when]
        texts += [r.when for r in p.start.requires if r.when]
        for d in p.deadlines.values():
            texts += [x for x in (d.unless, d.due_field.when if d.due_field else None) if x]
        for table in p.decisions.values():
            texts += [r.when for r in table.rows if r.when]
        texts += [n.when for n in p.notifications.values() if n.when]
        for text in texts:
            self.expr(text)

    # ------------------------------------------------------------------ the machine
    def _add(self, t: TransitionDef, made: dict[int, Candidate]) -> None:
        """Add `t` to the Machine (one transition per decision-table row for a routed one)
        and note, per `transitions.Transition` made, the candidate it stands for."""
        check = _checker(t)
        chosen = _chooser(t)
        if t.route is None:
            rows: list[tuple[str | None, list[str | Callable[..., bool | None]], Candidate]] = [
                (t.dest, [check], Candidate(t, t.dest))]
        else:
            table = self.process.decisions[t.route]
            rows = [(row.dest, [check, _row_matcher(t, table, row)], Candidate(t, row.dest, table, row))
                    for row in table.rows]
        for dest, conditions, candidate in rows:
            self.machine.add_transition(t.trigger, list(t.sources), dest,
                                        conditions=conditions, after=[chosen])
            for source in t.sources:  # the transition just added is the last from `source`
                made[id(self.machine.get_transitions(t.trigger, source)[-1])] = candidate

    def row_matches(self, table: DecisionTable, row: DecisionRow, env: Any) -> bool:
        """Whether `row` matches: its numeric range over the input, and its `when`."""
        if table.input is not None and _has_range(row):
            value = env.data.get(table.input)
            if value is None:
                return False
            value = Decimal(str(value))
            if row.over is not None and not value > row.over:
                return False
            if row.at_least is not None and not value >= row.at_least:
                return False
            if row.under is not None and not value < row.under:
                return False
            if row.at_most is not None and not value <= row.at_most:
                return False
        return row.when is None or bool(self.expr(row.when).evaluate(env))


def _has_range(row: DecisionRow) -> bool:
    return any(v is not None for v in (row.over, row.at_least, row.under, row.at_most))


def _checker(t: TransitionDef) -> Callable[[Any], bool]:
    def check(event_data: Any) -> bool:
        return bool(event_data.kwargs["plan"].check(t))

    return check


def _chooser(t: TransitionDef) -> Callable[[Any], None]:
    def chosen(event_data: Any) -> None:
        dest = event_data.transition.dest
        event_data.kwargs["plan"].choose(t, dest)

    return chosen


def _row_matcher(t: TransitionDef, table: DecisionTable, row: DecisionRow) -> Callable[[Any], bool]:
    def matches(event_data: Any) -> bool:
        return bool(event_data.kwargs["plan"].route_row(t, table, row))

    return matches
