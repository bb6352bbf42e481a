"""`--period-by`: `--from/--to` select cases by the date received, closed or worked on
(any event), with every figure over the one selected set; the dates are read from the
events up to `--as-of`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from flowengine import Actor, Engine, SimulatedClock
from flowengine.audit.replay import PinnedDefinitions
from flowengine.audit.report import period_days, report, report_lines
from tests.support.audit import PROCESSES, at

RECEPTION, DIRECTOR = Actor("王芳", "reception"), Actor("李明", "office_director")
FEB: dict[str, Any] = {"start": date(2026, 2, 1), "end": date(2026, 2, 28)}


@pytest.fixture(scope="module")
def walked() -> tuple[Engine, dict[str, str]]:
    """A: received and closed on 01-10. B: received 01-20, records disclosed 02-05, open.
    C: received and closed 02-03. D: received 01-25, closed 02-10. E: received 03-02."""
    clock = SimulatedClock(at("2026-01-10T09:00:00"))
    engine = Engine(processes=[PROCESSES], clock=clock)
    ids: dict[str, str] = {}

    def start(name: str, when: str) -> str:
        clock.set(at(when))
        data: dict[str, Any] = {"complainant": name, "relation": "patient", "patient": name,
                                "department_kind": "outpatient", "claim_amount": 0}
        ids[name] = engine.start("medical_dispute", data, actor=RECEPTION).id
        return ids[name]

    def fire(name: str, when: str, trigger: str, data: dict[str, Any] | None = None,
             actor: Actor = DIRECTOR) -> None:
        clock.set(at(when))
        engine.fire(ids[name], trigger, data or {}, actor=actor)

    start("A", "2026-01-10T09:00:00")
    fire("A", "2026-01-10T10:00:00", "resolve_on_spot", {"on_spot_resolution": "当场解释"}, RECEPTION)
    start("B", "2026-01-20T09:00:00")
    fire("B", "2026-01-20T10:00:00", "verify_identity", actor=RECEPTION)
    start("D", "2026-01-25T09:00:00")
    fire("D", "2026-01-25T10:00:00", "verify_identity", actor=RECEPTION)
    start("C", "2026-02-03T09:00:00")
    fire("C", "2026-02-03T10:00:00", "resolve_on_spot", {"on_spot_resolution": "当场解释"}, RECEPTION)
    fire("B", "2026-02-05T09:00:00", "disclose_records", actor=RECEPTION)
    fire("D", "2026-02-09T09:00:00", "determine", {"category": "management_process",
                                                   "cause": "hospital", "responsibility": "none"})
    fire("D", "2026-02-10T09:00:00", "give_feedback", {"feedback_text": "已整改"})
    fire("D", "2026-02-10T10:00:00", "close")
    start("E", "2026-03-02T09:00:00")
    return engine, ids


def _selected(engine: Engine, ids: dict[str, str], **kw: Any) -> tuple[set[str], dict[str, Any]]:
    rep = report(engine.store, engine.registry, **FEB, **kw)
    names = {n for n, i in ids.items() if i in rep.process_of}
    return names, rep.as_dict()["by_process"].get("medical_dispute", {})


def test_received_is_the_default(walked: tuple[Engine, dict[str, str]]) -> None:
    engine, ids = walked
    assert _selected(engine, ids)[0] == {"C"}
    assert _selected(engine, ids, period_by="received")[0] == {"C"}


def test_closed_selects_the_cases_closed_in_the_period(walked: tuple[Engine, dict[str, str]]) -> None:
    engine, ids = walked
    names, fig = _selected(engine, ids, period_by="closed")
    assert names == {"C", "D"}  # A closed in January; B is open
    r = fig["rates"]["closure_rate"]
    assert (r["numerator"], r["denominator"]) == (2, 2)  # over the same two cases


def test_event_selects_the_cases_worked_on_in_the_period(walked: tuple[Engine, dict[str, str]],
                                                       ) -> None:
    engine, ids = walked
    names, fig = _selected(engine, ids, period_by="event")
    assert names == {"B", "C", "D"}  # A: January only; E: March only
    assert fig["cases"] == 3 and fig["closed"] == 2 and fig["accepted"] == 3
    r = fig["rates"]["closure_rate"]
    assert (r["numerator"], r["denominator"]) == (2, 3)


def test_as_of_cuts_the_dates_too(walked: tuple[Engine, dict[str, str]]) -> None:
    """As of 02-05 D was not closed yet, and B's disclosure that day is in (the end of it)."""
    engine, ids = walked
    as_of = datetime.fromisoformat("2026-02-06T00:00:00+08:00")
    assert _selected(engine, ids, period_by="closed", as_of=as_of)[0] == {"C"}
    names, _ = _selected(engine, ids, period_by="event", as_of=as_of)
    assert names == {"B", "C"}  # D's February events came after the instant
    days = period_days(engine.store, PinnedDefinitions(engine.store, engine.registry), "event",
                       as_of)
    assert days[ids["D"]] == frozenset({date(2026, 1, 25)})
    assert days[ids["B"]] == frozenset({date(2026, 1, 20), date(2026, 2, 5)})


def test_headline_and_json_say_which_date(walked: tuple[Engine, dict[str, str]]) -> None:
    engine, _ = walked
    rep = report(engine.store, engine.registry, **FEB, period_by="closed")
    assert report_lines(rep)[0] == "2 case(s) closed from 2026-02-01 to 2026-02-28"
    assert rep.as_dict()["period_by"] == "closed"
    with pytest.raises(ValueError, match="unknown period basis"):
        report(engine.store, engine.registry, period_by="opened")
