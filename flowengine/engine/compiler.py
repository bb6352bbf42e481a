"""Compile a `ProcessDef` once into what firing needs: one shared `transitions.Machine`,
compiled expressions, and lookup tables. Every case of that definition version shares it.

Why one Machine and no per-case models: building a Machine (or `add_model`) per case costs
45–400 µs (shared/peer-bench/RESULTS.md); firing `machine.events[trigger].trigger(cursor)`
on a throwaway cursor object holding only `.state` costs about 12 µs. The Machine does the
dispatch (valid source, ordered conditions, first passing transition wins, internal
transitions); our conditions record *why* a candidate failed, so a rejection can say which
check failed and what would make it pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from transitions import Machine

from ..definition.model import DeadlineDef, DecisionRow, DecisionTable, ProcessDef, TransitionDef
from ..expr import Expr, compile_expr


@dataclass
class Cursor:
    """The only object `transitions` ever sees: it carries the state through one fire."""

    state: str


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

    def __post_init__(self) -> None:
        p = self.process
        self.tz = ZoneInfo(p.timezone)
        self.final_states = p.final_states
        self._names = frozenset(p.fields) | {"state", "signatures"}
        self.machine = Machine(
            model=None, states=list(p.states), initial=p.initial_state,
            auto_transitions=False, send_event=True, ignore_invalid_triggers=False,
        )
        for t in p.transitions:
            self._add(t)
        for d in p.deadlines.values():
            if d.extension is not None:
                ext = d.extension
                self.extensions.setdefault(ext.trigger, []).append(d)
                names = {ext.days_field} | ({ext.reason_field} if ext.reason_field else set())
                self.extension_fields[ext.trigger] = self.extension_fields.get(
                    ext.trigger, frozenset()) | names
        self._compile_all()

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
        for text in texts:
            self.expr(text)

    # ------------------------------------------------------------------ the machine
    def _add(self, t: TransitionDef) -> None:
        check = _checker(t)
        chosen = _chooser(t)
        if t.route is None:
            self.machine.add_transition(t.trigger, list(t.sources), t.dest,
                                        conditions=[check], after=[chosen])
            return
        table = self.process.decisions[t.route]
        for row in table.rows:
            self.machine.add_transition(t.trigger, list(t.sources), row.dest,
                                        conditions=[check, _row_matcher(t, table, row)],
                                        after=[chosen])

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
