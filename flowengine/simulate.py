"""Scenario files: an integrator's test of a procedure, run on an in-memory store with a
simulated clock. The same code runs `flowengine simulate` and the pytest scenario suite.

A scenario starts one case, then runs steps in order: `fire` (optionally `after` a duration
or `at` an instant, with `actor`, `data`, `expect_error`), `advance` (moves the clock, firing
every timer that falls due on the way), and `expect` (checks mid-run). The final `expect`
checks state, data, deadlines, notifications and events. A failed step or expectation is a
failure of the scenario, not an exception: the run goes on and reports every failure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .clock import SimulatedClock, parse_instant
from .definition.model import Duration
from .engine.compiler import CompiledProcess
from .engine.data import DataError, coerce, to_json
from .engine.engine import Engine
from .errors import CalendarYearMissing, FlowengineError, Location, ScenarioError, TriggerRejected
from .records.case import Case
from .records.events import Event
from .records.marked_yaml import MarkedList, MarkedMap
from .scenario_file import actor as _actor
from .scenario_file import instant as _instant
from .scenario_file import load_scenario, scenario_error
from .store.memory import MemoryStore


@dataclass
class ScenarioResult:
    """The outcome of one scenario file, in the shape of `simulate --json`."""

    file: str
    ok: bool = True
    failures: list[str] = field(default_factory=list)
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)  # for the human output

    def fail(self, message: str) -> None:
        self.ok = False
        self.failures.append(message)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "ok": self.ok, "failures": self.failures,
                "state": self.state, "data": self.data, "deadlines": self.deadlines,
                "events": self.events, "notifications": self.notifications}


# ----------------------------------------------------------------------------- running


def run_scenario(path: str, processes: Sequence[str] = ("processes",)) -> ScenarioResult:
    """Run one scenario file; raises `ScenarioError` only for a malformed file."""
    doc = load_scenario(path)
    result = ScenarioResult(file=path)
    runner = _Runner(path, doc, processes, result)
    runner.run()
    return result


def run_scenarios(paths: Sequence[str], processes: Sequence[str] = ("processes",)) -> list[ScenarioResult]:
    return [run_scenario(p, processes) for p in paths]


class _Runner:
    """Drives one scenario: one engine, one simulated clock, one case."""

    def __init__(self, path: str, doc: MarkedMap, processes: Sequence[str], result: ScenarioResult):
        self.path, self.doc, self.result = path, doc, result
        start = doc["start"] or {}
        self.start_at = _instant(start.get("at"), doc.loc_of("start"))
        self.clock = SimulatedClock(self.start_at)
        self.engine = Engine(store=MemoryStore(), clock=self.clock)
        self.process_id = self._load_process(doc["process"], processes, doc.loc_of("process"))
        self.cp: CompiledProcess = self.engine.registry.latest(self.process_id)
        self.actor = _actor(start.get("actor"))
        self.case: Case | None = None
        self.engine.subscribe(self._record)

    def _load_process(self, ref: str, processes: Sequence[str], loc: Location) -> str:
        candidate = os.path.join(os.path.dirname(os.path.abspath(self.path)), str(ref))
        try:
            if os.path.isfile(candidate):
                return self.engine.load(candidate)[0].id
            for folder in processes:
                if os.path.isdir(folder):
                    self.engine.load(folder)
            self.engine.registry.latest(str(ref))
        except FlowengineError as exc:
            raise scenario_error(loc, f"process '{ref}': {exc}") from None
        return str(ref)

    def _record(self, events: Sequence[Event], case: Case) -> None:
        for e in events:
            self.result.events.append(_event_json(e))
            self.result.timeline.append({"event": e})
            for n in e.notifications:
                self.result.notifications.append(_notification_json(n, e))

    # -------------------------------------------------------------- steps
    def run(self) -> None:
        start = self.doc["start"] or {}
        try:
            self.case = self.engine.start(self.process_id, dict(start.get("data") or {}),
                                          actor=self.actor, at=self.start_at)
        except FlowengineError as exc:
            self.result.fail(f"start: {exc}")
            return
        steps = self.doc.get("steps") or MarkedList()
        for i, step in enumerate(steps):
            try:
                self._step(i + 1, step)
            except (ValueError, OverflowError, CalendarYearMissing) as exc:
                # e.g. an advance past the calendar's last year (or Python's year 9999)
                raise scenario_error(steps.loc_of(i), f"step {i + 1}: {exc}") from None
        self._finish()
        if "expect" in self.doc:
            self._expect(self.doc["expect"], "expect")

    def _step(self, n: int, step: Mapping[str, Any]) -> None:
        if "advance" in step:
            self._move(self._after(Duration.parse(step["advance"])))
            return
        if "expect" in step:
            self._finish()
            self._expect(step["expect"], f"step {n} (expect)")
            return
        when = self._when(step)
        self._move(when)
        self._fire(n, step, when)

    def _when(self, step: Mapping[str, Any]) -> datetime:
        if "at" in step:
            return _instant(step["at"], Location(self.path))
        if "after" in step:
            return self._after(Duration.parse(step["after"]))
        return self.clock.now()

    def _after(self, d: Duration) -> datetime:
        now = self.clock.now()
        if d.unit == "working_days":
            local = now.astimezone(self.cp.tz)
            day = self.cp.calendar.add_working_days(local.date(), d.amount)
            return local + timedelta(days=(day - local.date()).days)
        return now + timedelta(**{d.unit: d.amount})

    def _move(self, when: datetime) -> None:
        if when < self.clock.now():
            raise ScenarioError(f"{self.path}: a step goes back in time to {when.isoformat()}")
        self.clock.set(when)
        self.engine.tick(when)

    def _fire(self, n: int, step: Mapping[str, Any], when: datetime) -> None:
        assert self.case is not None
        trigger = str(step["fire"])
        actor = _actor(step["actor"]) if "actor" in step else self.actor
        expected = step.get("expect_error")
        try:
            self.engine.fire(self.case.id, trigger, dict(step.get("data") or {}), actor=actor, at=when)
        except FlowengineError as exc:
            self.result.timeline.append({"rejected": trigger, "at": when, "why": str(exc)})
            if expected is None or expected is False:
                self.result.fail(f"step {n} ({trigger}) was rejected: {exc}")
            elif expected is not True and str(expected).lower() not in str(exc).lower():
                self.result.fail(f"step {n} ({trigger}) was rejected, but the error does not "
                                 f"contain {expected!r}: {exc}")
            if not isinstance(exc, (TriggerRejected,)) and not _is_input_error(exc):
                raise
            return
        if expected not in (None, False):
            self.result.fail(f"step {n} ({trigger}) was accepted, but expect_error: {expected!r}")

    def _finish(self) -> None:
        assert self.case is not None
        case = self.engine.case(self.case.id)
        self.result.state = case.state
        self.result.data = {k: to_json(v) for k, v in case.data.items()}
        self.result.deadlines = [_deadline_json(d) for d in case.deadlines.values()]

    # -------------------------------------------------------------- expectations
    def _expect(self, expect: Mapping[str, Any] | None, where: str) -> None:
        """Check the case (the schema has checked the shape of `expect`)."""
        expect = expect or {}
        assert self.case is not None
        case = self.engine.case(self.case.id)
        if "state" in expect and case.state != expect["state"]:
            self.result.fail(f"{where}: state is '{case.state}', expected '{expect['state']}'")
        for name, want in (expect.get("data") or {}).items():
            self._expect_value(where, case, name, want)
        for name, want in (expect.get("deadlines") or {}).items():
            self._expect_deadline(where, case, name, want or {})
        for key, got in (("notifications", self.result.notifications),
                         ("events", self.result.events)):
            if key in expect:
                missing = _subsequence(list(expect[key] or []), got)
                if missing is not None:
                    self.result.fail(f"{where}: no {key[:-1]} matching {dict(missing)} "
                                     f"(in order) among {len(got)} recorded")

    def _expect_value(self, where: str, case: Case, name: str, want: Any) -> None:
        got = case.data.get(name)
        f = self.cp.process.fields.get(name)
        try:
            want_typed = coerce(f, want) if f is not None and want is not None else want
        except DataError:
            want_typed = want
        if got != want_typed:
            self.result.fail(f"{where}: data {name} is {to_json(got)!r}, expected {to_json(want)!r}")

    def _expect_deadline(self, where: str, case: Case, name: str, want: Mapping[str, Any]) -> None:
        d = case.deadlines.get(name)
        if d is None:
            self.result.fail(f"{where}: deadline '{name}' never started")
            return
        if "status" in want and d.status != want["status"]:
            self.result.fail(f"{where}: deadline {name} is {d.status}, expected {want['status']}")
        if "due" in want and not _due_matches(d.due_date, d.due, want["due"]):
            self.result.fail(f"{where}: deadline {name} is due {d.due_date}, expected {to_json(want['due'])}")
        if "provisional" in want and _years(want["provisional"]) != list(d.provisional):
            self.result.fail(f"{where}: deadline {name} is provisional over {list(d.provisional)}, "
                             f"expected {want['provisional']}")


def _years(want: Any) -> list[int]:
    """`provisional: [2027]`, `provisional: true` (some year) is not accepted: name the years;
    `provisional: false` or `[]` means official data only."""
    if want is False or want is None:
        return []
    if isinstance(want, list) and all(isinstance(y, int) and not isinstance(y, bool) for y in want):
        return list(want)
    raise ScenarioError(f"'provisional' expects a list of years, e.g. [2027], or false; got {want!r}")


def _is_input_error(exc: FlowengineError) -> bool:
    return exc.exit_code == 2


def _due_matches(due_date: date | None, due: datetime | None, want: Any) -> bool:
    if isinstance(want, datetime):
        return due == want
    if isinstance(want, date):
        return due_date == want
    try:
        return due_date == date.fromisoformat(str(want))
    except ValueError:
        return due is not None and due == parse_instant(str(want))


def _subsequence(wanted: list[Any], got: list[dict[str, Any]]) -> Any:
    """None when every wanted mapping matches a recorded item, in order; else the first miss."""
    i = 0
    for want in wanted:
        while i < len(got) and not _item_matches(want, got[i]):
            i += 1
        if i == len(got):
            return want
        i += 1
    return None


def _item_matches(want: Any, item: Mapping[str, Any]) -> bool:
    if not isinstance(want, dict):
        return False
    for key, value in want.items():
        have = item.get(key)
        if key == "message":
            texts = list((item.get("messages") or {}).values()) + [item.get("message") or ""]
            if not any(str(value) in t for t in texts):
                return False
        elif key == "actor" and isinstance(have, dict) and not isinstance(value, dict):
            if have.get("name") != value and have.get("role") != value:
                return False
        elif key == "to" and isinstance(have, list) and not isinstance(value, list):
            if value not in have:
                return False
        elif have != value and str(have) != str(value):
            return False
    return True


def _event_json(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at.isoformat(), "type": e.type, "trigger": e.trigger,
            "source": e.source, "dest": e.dest, "actor": e.actor.as_dict()}


def _notification_json(n: Mapping[str, Any], e: Event) -> dict[str, Any]:
    messages = n.get("messages") or {}
    message = messages.get("zh") or messages.get("default") or next(iter(messages.values()), "")
    out = {"kind": n["kind"], "at": e.at.isoformat(), "case": e.case_id, "message": message}
    out.update({k: v for k, v in n.items() if k not in out})
    return out


def _deadline_json(d: Any) -> dict[str, Any]:
    return {"name": d.name, "due": d.due_date.isoformat() if d.due_date else None,
            "status": d.status, "round": d.round, "late": d.late,
            "provisional": list(d.provisional)}


__all__ = ["ScenarioResult", "load_scenario", "run_scenario", "run_scenarios"]
