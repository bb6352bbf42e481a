"""Replay property: for random histories on the shipped procedures, rebuilding a case from
its stored events gives exactly the stored projection, and `--until` an event's instant
gives the case exactly as the engine left it right after that event.

Histories are generated step by step against the live engine: at each step either the
clock moves (minutes to days) and timers tick, or a trigger is fired: usually one allowed
in the current state with data drawn from the declared field types (so guards and
requirements often pass), sometimes any trigger of the process with any role (so it is
usually refused). Rejections are part of the history: they must change nothing.
Runs on the in-memory store and on SQLite (through the SQL store's row encoding).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine import Actor, Case, Engine, SimulatedClock, TriggerRejected
from flowengine.audit.replay import Replayer, compare
from flowengine.definition.model import FieldDef, ProcessDef
from flowengine.engine.registry import Registry
from flowengine.records.events import Event
from flowengine.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 5, 9, 0, tzinfo=TZ)
LAST = datetime(2026, 6, 30, 9, 0, tzinfo=TZ)  # so every deadline computed falls within 2026
PROCESS_IDS = ("standard_case", "medical_dispute", "five_step")

_REGISTRY = Registry()
_REGISTRY.add_path(ROOT / "processes")


def _store(kind: str) -> Any:
    if kind == "memory":
        return MemoryStore()
    sql = pytest.importorskip("flowengine.store.sql")
    return sql.SqlStore("sqlite://")


def _engine(kind: str, clock: SimulatedClock) -> Engine:
    """An engine sharing one compiled registry (loading the YAML costs ~0.3 s)."""
    store = _store(kind)
    for pid in PROCESS_IDS:
        p = _REGISTRY.latest(pid).process
        store.save_definition(p.digest, p.id, p.version, p.source_text, p.duplicate_key)
    engine = Engine(store=store, clock=clock)
    engine.registry = _REGISTRY
    return engine


TEXTS = st.sampled_from(["张三", "噪音扰民", "x", "情况复杂", "城管局"])


def field_value(f: FieldDef, today: date) -> st.SearchStrategy[Any]:
    """A value of the field's declared type, inside its bounds."""
    if f.type == "enum":
        return st.sampled_from(list(f.values))
    if f.type == "boolean":
        return st.booleans()
    if f.type in ("integer", "money"):
        lo = int(f.minimum) if f.minimum is not None else 0
        cap = 300_000 if f.type == "money" else 60  # integers are day counts: stay in 2026
        hi = min(int(f.maximum), cap) if f.maximum is not None else cap
        ints = st.sampled_from(sorted({lo, min(hi, lo + 1), min(hi, 20_000), hi}))
        return ints if f.type == "integer" else ints.map(lambda n: str(Decimal(n)))
    if f.type == "date":
        return st.integers(-5, 40).map(lambda n: (today + timedelta(days=n)).isoformat())
    if f.type == "datetime":
        return st.just(datetime.combine(today, datetime.min.time(), TZ).isoformat())
    if f.type == "list":
        return st.lists(TEXTS, min_size=1, max_size=2)
    return TEXTS


def _data(draw: Any, p: ProcessDef, names: list[str], today: date) -> dict[str, Any]:
    return {n: draw(field_value(p.fields[n], today)) for n in names if n in p.fields}


def _allowed(p: ProcessDef, state: str) -> list[Any]:
    return [t for t in p.transitions if state in t.sources]


def _records(engine: Engine, case: Case, t: Any) -> set[str]:
    """The fields a fire of `t` may be given (requires + accepts + extension fields)."""
    cp = engine.compiled(case)
    extension = getattr(cp, "extension_fields", {}).get(t.trigger, ())
    names = set(getattr(t, "records", ())) | set(extension)
    return {n for n in names if n in cp.process.fields}


def _fire_step(draw: Any, engine: Engine, case: Case, p: ProcessDef) -> None:
    today = engine.clock.now().astimezone(TZ).date()
    allowed = _allowed(p, case.state)
    if allowed and draw(st.integers(0, 4)) > 0:
        moving = [t for t in allowed if not t.internal] or allowed  # prefer leaving the state
        t = draw(st.sampled_from(moving if draw(st.integers(0, 4)) else allowed))
        names = [f for r in t.requires for f in r.fields]
        records = sorted(_records(engine, case, t))
        extra = draw(st.lists(st.sampled_from(records), max_size=2)) if records else []
        data = _data(draw, p, names + extra, today)
        data.update({n: True for n in records
                     if p.fields[n].type == "boolean" and draw(st.booleans())})
        role = draw(st.sampled_from(list(t.roles) or list(p.roles) or ["clerk"]))
        trigger = t.trigger
    else:
        trigger = draw(st.sampled_from(sorted(p.triggers) + ["no_such_trigger"]))
        role, data = draw(st.sampled_from(list(p.roles) + [None])), {}
    try:
        engine.fire(case.id, trigger, data, actor=Actor("甲", role))
    except TriggerRejected:
        pass


class Snapshots:
    """The live projection right after each commit, keyed by (case, last seq)."""

    def __init__(self) -> None:
        self.after: dict[tuple[str, int], Case] = {}

    def __call__(self, events: Any, case: Case) -> None:
        self.after[(case.id, case.seq)] = case.copy()


def _run_history(draw: Any, kind: str) -> tuple[Engine, Snapshots, list[str]]:
    clock = SimulatedClock(START)
    engine = _engine(kind, clock)
    snaps = Snapshots()
    engine.subscribe(snaps)
    ids: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        pid = draw(st.sampled_from(PROCESS_IDS))
        p = _REGISTRY.latest(pid).process
        required = [n for n, f in p.fields.items() if f.required]
        optional = draw(st.lists(st.sampled_from(sorted(p.fields)), max_size=3))
        optional += [t.input for t in p.decisions.values() if t.input]  # e.g. claim_amount
        data = _data(draw, p, required + optional, clock.now().date())
        role = draw(st.sampled_from(list(p.start.roles) or ["clerk"]))
        try:
            ids.append(engine.start(pid, data, actor=Actor("王芳", role)).id)
        except TriggerRejected:
            continue
    for _ in range(draw(st.integers(0, 30)) if ids else 0):
        if draw(st.integers(0, 2)) == 0:
            step = timedelta(minutes=draw(st.integers(1, 60 * 24 * 12)))
            if clock.now() + step < LAST:  # the national calendar data ends with 2026
                clock.advance(step)
            engine.tick()
            continue
        case = engine.case(draw(st.sampled_from(ids)))
        _fire_step(draw, engine, case, _REGISTRY.pinned(case.digest).process)  # type: ignore[union-attr]
    clock.set(min(clock.now() + timedelta(days=draw(st.integers(0, 40))), LAST))
    engine.tick()
    return engine, snaps, ids


def _check_until(replayer: Replayer, snaps: Snapshots, case_id: str, events: list[Event]) -> None:
    for i, event in enumerate(events):
        if i + 1 < len(events) and events[i + 1].at == event.at:
            continue  # the state "at" this instant is the one after its last event
        result = replayer.replay(case_id, until=event.at)
        assert result.case is not None and result.case.seq == event.seq
        live = snaps.after.get((case_id, event.seq))
        if live is not None:  # the event ended a commit: the engine's own state is known
            assert compare(live, result.case) == [], (event.seq, event.at)


def _check(kind: str, data: Any) -> None:
    engine, snaps, ids = _run_history(data.draw, kind)
    replayer = Replayer(engine.store)  # a fresh registry: the pinned texts from the store
    for case_id in ids:
        result = replayer.replay(case_id)
        assert result.ok, result.problems()
        assert result.compared and result.case is not None
        assert compare(engine.case(case_id), result.case) == []
        _check_until(replayer, snaps, case_id, engine.history(case_id))


HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=120, deadline=None, suppress_health_check=HEALTH)
@given(data=st.data())
def test_replay_equals_the_projection_and_until_each_event_in_memory(data: Any) -> None:
    _check("memory", data)


@settings(max_examples=30, deadline=None, suppress_health_check=HEALTH)
@given(data=st.data())
def test_replay_equals_the_projection_and_until_each_event_on_sqlite(data: Any) -> None:
    """Also through the SQL store's row encoding (typed data, deadlines, instants in UTC)."""
    _check("sqlite", data)
