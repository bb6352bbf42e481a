"""Decide what a start, a fire or a timer does, and write it down as sealed events.

The planner never changes the case it is given: it returns events; the engine folds them
(`fold.apply`) and stores them in one transaction. A refused trigger raises
`TriggerRejected` listing every check that failed and what would make it pass.

Two objects carry the context so no helper needs it in its parameters: a `Planner` per
compiled definition version (`Planner.of(cp)`: what never changes between fires), and per
decision a `Moment` (the case before it, the actor and the instant; it builds the `Draft`
and seals it) or, for a fire, a `FirePlan` (a `Moment` with the trigger, the given data
and the checks of each candidate transition).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..definition.limits import NAME_MAX
from ..definition.model import DecisionRow, DecisionTable, ProcessDef, Requirement, TransitionDef
from ..errors import InvalidData, Rejection, TriggerRejected, did_you_mean
from ..expr import ExprEvalError
from ..expr.functions import SimpleEnv
from ..records.built import built
from ..records.case import SYSTEM, Actor, Case, Deadline
from ..records.events import Draft, Event
from ..records.lifecycle import Effect, EventType
from .compiler import CompiledProcess
from .data import SIGNATURES, DataError, coerce_all, is_missing, to_json
from .deadlines import (
    Rule,
    Step,
    extension_effects,
    recompute_effects,
    step_effects,
    step_rules,
    timer_effect,
)
from .fold import apply
from .notify import notifications_for
from .start_data import start_refusal


def case_env(cp: CompiledProcess, state: str, data: Mapping[str, Any], actor: Actor | None,
             now: datetime) -> SimpleEnv:
    """What guards and computed values read: the case data with `state` and the roles that
    signed."""
    variables = dict(data)
    variables["state"] = state
    signatures = [str(s.get("role")) for s in data.get(SIGNATURES) or () if isinstance(s, dict)]
    return SimpleEnv(data=variables, actor=actor, now=now, tz=cp.tz, calendar=cp.calendar,
                     signatures=signatures)


def _long_role(actor: Actor) -> Rejection | None:
    """A role name longer than the database's `actor_role` column holds (any role may fire a
    transition that names none, so the declared names alone do not bound it)."""
    if actor.role is None or len(actor.role) <= NAME_MAX:
        return None
    return Rejection("role", f"a role name has at most {NAME_MAX} characters, not "
                     f"{len(actor.role)}")


def _missing(cp: CompiledProcess, reqs: tuple[Requirement, ...], data: Mapping[str, Any],
             state: str, env: SimpleEnv | None,
             given: Mapping[str, Any] | None = None) -> list[str]:
    """Required fields without a value in `data` (the case data in `state`, as `env.data`
    holds it); a `given` requirement looks only at this fire's data. `env` evaluates a
    requirement's `when`: None only where no requirement has one (it is built for none)."""
    missing: list[str] = []
    for r in reqs:
        if r.when is not None and not _truth(cp, r.when, env):  # type: ignore[arg-type]
            continue
        if r.given and given is not None:
            missing += [f for f in r.fields if is_missing(given.get(f)) and f not in missing]
        else:
            missing += [f for f in r.fields if is_missing(state if f == "state" else data.get(f))
                        and f not in missing]
    return missing


def _truth(cp: CompiledProcess, text: str, env: SimpleEnv) -> bool:
    try:
        return bool(cp.expr(text).evaluate(env))
    except ExprEvalError:
        return False


class Planner:
    """The decisions of one compiled definition version (`Planner.of(cp)`, made once and
    kept on the `CompiledProcess`): start, fire, due timers and calendar recounts."""

    __slots__ = ("cp", "process", "deadlines", "notifies", "start_env", "_rules")

    def __init__(self, cp: CompiledProcess) -> None:
        self.cp = cp
        self.process: ProcessDef = cp.process
        self.deadlines = bool(cp.process.deadlines)  # whether any step may have effects
        self.notifies = bool(cp.process.notifications)
        # whether a start evaluates an expression (a requirement's `when`, a deadline's)
        self.start_env = self.deadlines or any(r.when for r in cp.start_requires)
        self._rules: dict[tuple[bool, str | None, str | None, str | None],
                          tuple[tuple[Rule, ...], bool]] = {}

    def rules(self, step: Step) -> tuple[tuple[Rule, ...], bool]:
        """`step_rules` of a kind of step, and whether it starts some deadline (only then
        does `step_effects` read the expression environment): the same for every case, so
        a tick that runs thousands of cases out of one state works them out once."""
        key = (step.started, step.trigger, step.entered, step.left)
        found = self._rules.get(key)
        if found is None:
            rules = step_rules(self.cp, step)
            found = self._rules[key] = (rules, any(starts for *_, starts in rules))
        return found

    @staticmethod
    def of(cp: CompiledProcess) -> Planner:
        """The planner of `cp`, made on its first use and kept on it."""
        found = cp.planner
        if found is None:
            found = cp.planner = Planner(cp)
        return found

    def coerce(self, case: Case | str, trigger: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """`data` checked against the field types, or `InvalidData` naming case and trigger."""
        try:
            return coerce_all(self.process.fields, data)
        except DataError as exc:
            case_id, state = ((case, self.process.initial_state) if isinstance(case, str)
                              else (case.id, case.state))
            raise InvalidData(case_id, trigger, state, str(exc)) from None

    def plan(self, case: Case, trigger: str, data: Mapping[str, Any], actor: Actor,
             at: datetime, *, auto: bool = False) -> FirePlan:
        """The plan of one fire: the given data checked against the field types
        (`InvalidData` if a value does not fit) and merged over the case's data."""
        given = self.coerce(case, trigger, data) if data else {}
        return FirePlan(self, case, actor, at, trigger, given, auto)

    def fire(self, case: Case, trigger: str, data: Mapping[str, Any], actor: Actor,
             at: datetime, *, auto: bool = False, owned: bool = False) -> tuple[Event, Case]:
        """The sealed event of firing `trigger` and the case after it, or `TriggerRejected`
        (nothing changes: `case` is not modified). `owned`: the caller hands `case` over, and
        once every check has passed the event is folded into it instead of into a copy."""
        plan = FirePlan(self, case, actor, at, trigger,
                        self.coerce(case, trigger, data) if data else {}, auto)  # `plan`
        plan.dispatch()
        return plan.decide(owned)

    def start(self, case_id: str, data: Mapping[str, Any], actor: Actor, at: datetime,
              duplicate_of: str | None = None,
              flags: Mapping[str, Any] | None = None) -> tuple[Event, Case]:
        """The sealed `started` event of a new case and the case, or `TriggerRejected` /
        `InvalidData` (also for data the start does not record: see `start_data`); `flags`:
        what the engine records about the earlier case (`duplicate_flag`)."""
        cp, p = self.cp, self.process
        refusal = start_refusal(p, cp.start_records, data)
        if refusal is not None:
            raise InvalidData(case_id, "start", p.initial_state, refusal)
        given = self.coerce(case_id, "start", data)
        full = {**cp.start_defaults, **given, **(flags or {})}
        # the expression environment only where a requirement's `when` or a deadline reads it
        env = case_env(cp, p.initial_state, full, actor, at) if self.start_env else None
        reasons = [r for r in (_long_role(actor),) if r is not None]
        if p.start.roles and actor.role not in p.start.roles and not reasons:
            reasons.append(Rejection("role", f"starting a case needs the role "
                                     f"{' or '.join(p.start.roles)} (the actor's role is "
                                     f"{actor.role or 'not given'})"))
        missing = _missing(cp, cp.start_requires, full, p.initial_state, env)
        if missing:
            reasons.append(Rejection("required", f"missing data: {', '.join(missing)}"))
        if reasons:
            raise TriggerRejected(case_id, "start", p.initial_state, reasons)
        empty = built(Case, {  # `Case(...)` with its defaults, without the `__init__` call
            "id": case_id, "process_id": p.id, "digest": p.digest, "state": p.initial_state,
            "data": {}, "deadlines": {}, "seq": 0, "last_hash": "", "created_at": None,
            "updated_at": None, "owner": None, "duplicate_of": None})
        now = Moment(self, empty, actor, at)
        # only the deadline rules and the notices read the step (`Moment.seal`)
        step = (Step(at, actor, started=True, dest=p.initial_state)
                if self.deadlines or self.notifies else None)
        effects: list[Effect] = (step_effects(cp, empty, step, env, self.rules(step)[0])
                                 if step is not None and self.deadlines else [])
        draft = now.draft("started", dest=p.initial_state, data=full, effects=effects,
                          duplicate_of=duplicate_of or None)
        after = apply(p, empty, draft)
        return now.seal(draft, after, step, effects), after

    def timers(self, case: Case, until: datetime, *,
               owned: bool = False) -> tuple[list[Event], Case]:
        """Every timer of `case` due at or before `until`, in time order, each folded in turn.

        Returns the events and the case after them. An expiry whose trigger fires by itself
        adds the automatic fire as a second event at the same instant (actor `system`).
        `case` is not modified unless `owned` (the caller hands it over, as in `fire`).

        A timer that came due before the case's last event (a deadline started with its
        warning window, or its due date, already in the past: a due date taken from a field,
        a short period with a long warning) is recorded at that event's instant, never
        before it, so a case's events stay in time order; the effect still says which
        instant came due. That instant is written with the due instant's UTC offset, so the
        same history gives the same event text on every store."""
        events: list[Event] = []
        current = case
        if not current.deadlines:
            return events, current  # no deadline, no timer
        cp = self.cp
        while (when := current.next_timer()) is not None and when <= until:
            due = []  # loops, not comprehensions: a tick runs this for every due case
            for d in current.deadlines.values():
                if d.next_timer() == when:
                    due.append(d)
            if len(due) > 1:
                due.sort(key=_name)
            effects: list[Effect] = []
            for d in due:
                effects.append(timer_effect(cp, d, when))
            # late: at the last event's instant, written in the timer's own zone (a store
            # may hand `updated_at` back in UTC; the event text must not depend on the store)
            at = (when if current.updated_at is None or when >= current.updated_at
                  else current.updated_at.astimezone(when.tzinfo))
            now = Moment(self, current, SYSTEM, at)
            # `Moment.draft` without its JSON conversion: a timer's effects hold only text
            # (and a `mark` flag), made just now by `timer_effect`
            draft = Draft(now, "timer", None, None, None, {}, tuple(effects))
            current = apply(self.process, current if owned else current.copy(), draft)
            owned = True  # from here on `current` is the copy made above
            events.append(now.seal(draft, current, Step(at), effects))
            for effect in effects:
                if effect["op"] != "expired":
                    continue
                trigger = effect["fire"]
                try:
                    fired, current = self.fire(current, trigger, {}, SYSTEM, at, auto=True,
                                               owned=True)
                except TriggerRejected:
                    continue  # the state moved on; the expiry itself is recorded
                events.append(fired)
        return events, current

    def recompute(self, case: Case, at: datetime) -> tuple[Event, Case] | None:
        """The `calendar` event recounting the deadlines of `case` that were counted over a
        provisional year the calendar now answers officially, or None when nothing changes
        (so a second reconcile does nothing). The event carries old and new due dates:
        replay never needs a calendar. A notice goes out for each deadline whose date
        moved."""
        effects = recompute_effects(self.cp, case, at)
        if not effects:
            return None
        now = Moment(self, case, SYSTEM, at)
        draft = now.draft("calendar", data={}, effects=effects)
        after = apply(self.process, case.copy(), draft)
        moved = [e for e in effects if e["due_date"] != e["old_due_date"]]
        return now.seal(draft, after, Step(at), moved), after


class Moment:
    """One decision's context: the planner, the case before it, who acts and when. Builds
    the decision's `Draft` (it is the draft's `DraftContext`) and seals it."""

    __slots__ = ("planner", "cp", "case", "actor", "at", "process_id", "digest")

    def __init__(self, planner: Planner, case: Case, actor: Actor, at: datetime) -> None:
        self.planner, self.cp, self.case, self.actor, self.at = planner, planner.cp, case, actor, at
        self.process_id, self.digest = planner.process.id, planner.process.digest

    def draft(self, kind: EventType, trigger: str | None = None, source: str | None = None,
              dest: str | None = None, data: Mapping[str, Any] | None = None,
              effects: Sequence[Mapping[str, Any]] = (),
              duplicate_of: str | None = None) -> Draft:
        """The next event of the case, as a draft in JSON form (notifications and hash come
        after the fold). Positional arguments on the way to `Draft` (one per decision):
        keyword arguments make the two calls measurably slower."""
        return Draft(self, kind, trigger, source, dest,
                     {k: to_json(v) for k, v in data.items()} if data else {},
                     tuple({k: to_json(v) for k, v in e.items()} for e in effects)
                     if effects else (), duplicate_of)

    def seal(self, draft: Draft, after: Case, step: Step | None,
             effects: Sequence[Mapping[str, Any]]) -> Event:
        """The complete event: the draft with the notifications the case after it asks for
        (numbered; they do not change the fold), hashed; the hash is recorded on `after`.
        `step` may be None only where no notice can follow (no deadline, no notification)."""
        if not effects and not self.planner.notifies:
            event = draft.seal()  # nothing to notify: the common fire
        else:
            assert step is not None  # effects come only with deadlines
            notes = notifications_for(self.cp, after, step, effects)
            for i, note in enumerate(notes):
                note["id"] = f"{draft.case_id}:{draft.seq}:{i}"
            event = draft.seal(tuple(notes))
        after.last_hash = event.hash
        return event


class FirePlan(Moment):
    """One attempt to fire: checks each candidate transition and records why one failed.

    A plain slotted class (not a dataclass with default factories): one is made per fire.
    The expression environment is built on first use; most transitions have no guard."""

    __slots__ = ("trigger", "given", "data", "auto", "reasons", "checked", "routed", "chosen",
                 "dest", "ext_effects", "_env")

    def __init__(self, planner: Planner, case: Case, actor: Actor, at: datetime, trigger: str,
                 given: dict[str, Any], auto: bool = False) -> None:
        # `Moment.__init__`, written out: one is made per fire
        self.planner, self.cp, self.case, self.actor, self.at = planner, planner.cp, case, actor, at
        self.process_id, self.digest = planner.process.id, planner.process.digest
        self.trigger, self.auto = trigger, auto  # auto: a timer fired it, no role check
        self.given: Mapping[str, Any] = given  # the data given with this fire, typed
        self.data: Mapping[str, Any] = {**case.data, **given} if given else case.data
        self.reasons: list[Rejection] = []
        self.checked: dict[int, bool] = {}
        self.routed: set[int] = set()
        self.chosen: TransitionDef | None = None
        self.dest: str | None = None
        self.ext_effects: Sequence[Effect] = ()  # set by an extension trigger's check
        self._env: SimpleEnv | None = None

    def dispatch(self) -> None:
        """Choose the transition: the first candidate of the trigger from the case's state
        whose conditions pass, in the order of the compiled Machine's table (compiler.py)."""
        cp, case, trigger = self.cp, self.case, self.trigger
        by_source = cp.candidates.get(trigger)
        if by_source is None:
            hint = did_you_mean(trigger, cp.process.triggers)
            raise TriggerRejected(case.id, trigger, case.state, [Rejection(
                "state", f"'{cp.process.id}' has no trigger '{trigger}'"
                + (f"; {hint}" if hint else ""))])
        candidates = by_source.get(case.state)
        if candidates is None:
            allowed = sorted({t.trigger for t in cp.process.transitions if case.state in t.sources})
            raise TriggerRejected(case.id, trigger, case.state, [Rejection(
                "state", f"not allowed in state '{case.state}'; allowed here: "
                f"{', '.join(allowed) or 'nothing (final state)'}")])
        for c in candidates:
            t = c.transition
            if c.plain and not self.given:  # nothing to check: `check` would pass it
                self.chosen, self.dest = t, c.dest
                return
            if self.check(t) and (c.row is None or self.route_row(t, c.table, c.row)):  # type: ignore[arg-type]
                self.chosen, self.dest = t, c.dest
                return
        raise TriggerRejected(case.id, trigger, case.state, self.reasons + self.route_failures())

    def decide(self, owned: bool) -> tuple[Event, Case]:
        """The sealed event of the chosen transition and the case after it (`dispatch`
        first): its data changes, the entered state's requirements, its deadline effects."""
        cp, case, trigger, t = self.cp, self.case, self.trigger, self.chosen
        assert t is not None
        changes = dict(self.given)
        if t.set or t.compute or t.clear or t.signs:
            changes.update(self._effects_on_data(t))
        new_state = case.state if self.dest is None else self.dest
        if new_state != case.state and cp.process.states[new_state].requires:
            self._check_entry(new_state, _changed(case.data, changes))
        effects: Sequence[Effect] = self.ext_effects
        # only the deadline rules and the notices read the step (`Moment.seal`)
        step = (Step(self.at, self.actor, trigger=trigger, source=case.state, dest=new_state)
                if self.planner.deadlines or self.planner.notifies else None)
        if step is not None and self.planner.deadlines:
            rules, starts = self.planner.rules(step)
            # the environment only where a deadline may start (its `unless`, its due field)
            env = None if not starts else self.env if not changes else (
                case_env(cp, new_state, _changed(case.data, changes), self.actor, self.at))
            effects = [*effects, *step_effects(cp, case, step, env, rules)]
        draft = self.draft("fired", trigger, case.state, new_state, changes, effects)
        after = apply(cp.process, case if owned else case.copy(), draft)
        return self.seal(draft, after, step, effects), after

    def _check_entry(self, state: str, data: Mapping[str, Any]) -> None:
        """A state's `requires` hold for every way into it (e.g. a case is never closed
        without its result), whatever route the transition took."""
        missing = _missing(self.cp, self.planner.process.states[state].requires, data, state,
                           case_env(self.cp, state, data, self.actor, self.at))
        if missing:
            raise TriggerRejected(self.case.id, self.trigger, self.case.state, [Rejection(
                "required", f"entering '{state}' needs {', '.join(missing)}", tuple(missing))])

    def _effects_on_data(self, t: TransitionDef) -> dict[str, Any]:
        """The values `t` sets, computes, clears or signs, typed."""
        changes: dict[str, Any] = dict(t.set)
        for name, text in t.compute.items():
            try:
                changes[name] = self.cp.expr(text).evaluate(self.env)
            except ExprEvalError as exc:
                raise InvalidData(self.case.id, t.trigger, self.case.state,
                                  f"cannot compute {name}: {exc}") from None
        for name in t.clear:
            changes[name] = None
        if t.signs:
            signed = list(self.data.get(SIGNATURES) or [])
            signed.append({"name": self.actor.name, "role": self.actor.role,
                           "at": self.at.isoformat()})
            changes[SIGNATURES] = signed
        return self.planner.coerce(self.case, t.trigger, {
            k: v for k, v in changes.items() if v is not None}) | {
            k: None for k, v in changes.items() if v is None}

    @property
    def env(self) -> SimpleEnv:
        """What guards and computed values read: the case data merged with the given data."""
        if self._env is None:
            self._env = case_env(self.cp, self.case.state, self.data, self.actor, self.at)
        return self._env

    def check(self, t: TransitionDef) -> bool:
        """Role, required data, guards and extension limits of candidate `t`."""
        key = id(t)
        found = self.checked.get(key)
        if found is not None:
            return found
        reasons: list[Rejection] = []
        if self.given:
            reasons += self._records(t)
        if t.roles:
            reasons += self._role(t)
        if t.requires:
            reasons += self._required(t)
        if t.guards:
            reasons += self._guards(t)
        if self.trigger in self.cp.extensions:
            reasons += self._extension()
        self.reasons += reasons
        self.checked[key] = not reasons
        return not reasons

    def _records(self, t: TransitionDef) -> list[Rejection]:
        """A fire may only record the fields its transition declares (requires, accepts):
        data given with `close` cannot rewrite the claim its guard checks."""
        if not self.given:
            return []
        allowed = t.records | self.cp.extension_fields.get(t.trigger, frozenset())
        extra = sorted(set(self.given) - allowed)
        if not extra:
            return []
        records = ", ".join(sorted(allowed)) or "no data"
        return [Rejection("data", f"'{t.trigger}' does not record {', '.join(extra)} "
                          f"(it records: {records}); use the trigger that records it")]

    def _role(self, t: TransitionDef) -> list[Rejection]:
        too_long = None if self.auto else _long_role(self.actor)
        if too_long is not None:
            return [too_long]
        if not t.roles or self.auto or self.actor.role in t.roles:
            return []
        return [Rejection("role", f"needs the role {' or '.join(t.roles)} "
                          f"(the actor's role is {self.actor.role or 'not given'})")]

    def _required(self, t: TransitionDef) -> list[Rejection]:
        if not t.requires:
            return []
        env = self.env if any(r.when for r in t.requires) else None
        missing = _missing(self.cp, t.requires, self.data, self.case.state, env, self.given)
        if not missing:
            return []
        fresh = {f for r in t.requires if r.given for f in r.fields} & set(missing)
        again = f"; {', '.join(sorted(fresh))} must be given with this fire" if fresh else ""
        return [Rejection("required", f"missing data: {', '.join(missing)}{again}",
                          tuple(missing))]

    def _guards(self, t: TransitionDef) -> list[Rejection]:
        out = []
        for g in t.guards:
            try:
                ok = bool(self.cp.expr(g.expr).evaluate(self.env))
            except ExprEvalError as exc:
                out.append(Rejection("guard", f"{g.message or g.expr} ({exc})"))
                continue
            if not ok:
                out.append(Rejection("guard", g.message or f"guard is false: {g.expr}"))
        return out

    def _extension(self) -> list[Rejection]:
        if self.trigger not in self.cp.extensions:
            return []
        effects, reasons = extension_effects(self.cp, self.case, self.trigger, self.given,
                                             self.at)
        self.ext_effects = effects
        return reasons

    def route_row(self, t: TransitionDef, table: DecisionTable, row: DecisionRow) -> bool:
        self.routed.add(id(t))
        try:
            return self.cp.row_matches(table, row, self.env)
        except ExprEvalError:
            return False

    def choose(self, t: TransitionDef, dest: str | None) -> None:
        self.chosen, self.dest = t, dest

    def route_failures(self) -> list[Rejection]:
        out = []
        for t in self.cp.process.transitions:
            if id(t) in self.routed and self.checked.get(id(t)) and t.route:
                table = self.cp.process.decisions[t.route]
                value = self.env.data.get(table.input) if table.input else None
                shown = f"{table.input} = {value}" if table.input else "the case data"
                out.append(Rejection("route", f"no row of decision table '{t.route}' matches "
                                     f"{shown}; first match wins, so add a row or correct the data"))
        return out


def _name(d: Deadline) -> str:
    return d.name


def _changed(data: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = {**data, **changes}
    for k in [k for k, v in changes.items() if v is None]:
        out.pop(k, None)
    return out


# The planner's decisions as functions of a compiled version (what verify re-decides with).
def plan_fire(cp: CompiledProcess, case: Case, trigger: str, data: Mapping[str, Any],
              actor: Actor, at: datetime, *, auto: bool = False,
              owned: bool = False) -> tuple[Event, Case]:
    """`Planner.fire` of `cp`'s planner."""
    return Planner.of(cp).fire(case, trigger, data, actor, at, auto=auto, owned=owned)


def plan_start(cp: CompiledProcess, case_id: str, data: Mapping[str, Any], actor: Actor,
               at: datetime, duplicate_of: str | None = None,
               flags: Mapping[str, Any] | None = None) -> tuple[Event, Case]:
    """`Planner.start` of `cp`'s planner."""
    return Planner.of(cp).start(case_id, data, actor, at, duplicate_of, flags)


def plan_timers(cp: CompiledProcess, case: Case, until: datetime, *,
                owned: bool = False) -> tuple[list[Event], Case]:
    """`Planner.timers` of `cp`'s planner."""
    return Planner.of(cp).timers(case, until, owned=owned)


def plan_recompute(cp: CompiledProcess, case: Case, at: datetime) -> tuple[Event, Case] | None:
    """`Planner.recompute` of `cp`'s planner."""
    return Planner.of(cp).recompute(case, at)


__all__ = ["FirePlan", "Moment", "Planner", "case_env", "plan_fire", "plan_recompute",
           "plan_start", "plan_timers"]
