"""`report(as_of=…)`: the figures as they stood at an instant, folded from the events of a
real SQLite file, cut in the middle of cases."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from flowengine.audit.report import report
from tests.support.audit import CLERK, at, new_engine, walk_standard


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """K: received 03-02, a step every 2 days: accepted 03-04, filed 03-08, replied 03-18,
    closed 03-22, archived 03-24. L: received and accepted 03-25, then nothing (no tick
    ever runs). M: received 04-01 and left registered."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('asof')) / 'cases.db'}"
    engine, clock = new_engine("2026-03-02T09:00:00", db=url)
    walk_standard(engine, clock, petitioner="K", filed=True)
    clock.set(at("2026-03-25T09:00:00"))
    lc = engine.start("standard_case", {"petitioner": "L", "subject": "占道"}, actor=CLERK)
    engine.fire(lc.id, "accept", actor=CLERK)
    clock.set(at("2026-04-01T09:00:00"))
    engine.start("standard_case", {"petitioner": "M", "subject": "噪音"}, actor=CLERK)
    return engine.store


def figures(store, when: str | None):  # type: ignore[no-untyped-def]
    rep = report(store, as_of=at(when) if when else None)
    return rep.cases, rep.as_dict()["by_process"].get("standard_case")


def pair(fig, name: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return fig["rates"][name]["numerator"], fig["rates"][name]["denominator"]


def test_before_acceptance_the_case_is_received_but_not_accepted(store) -> None:  # type: ignore[no-untyped-def]
    cases, fig = figures(store, "2026-03-03T12:00:00")
    assert cases == 1 and fig["by_state"] == {"registered": 1}
    assert fig["accepted"] == 0 and pair(fig, "closure_rate") == (0, 0)
    assert pair(fig, "timely_acceptance_rate") == (0, 0)  # the notice is not yet due
    assert fig["deadlines"]["acceptance_notice"]["pending"] == 1


def test_in_the_middle_of_a_case(store) -> None:  # type: ignore[no-untyped-def]
    cases, fig = figures(store, "2026-03-10T00:00:00")  # K filed on 03-08, not yet replied
    assert cases == 1 and fig["by_state"] == {"investigating": 1}
    assert pair(fig, "filing_rate") == (1, 1)
    assert pair(fig, "closure_rate") == (0, 1)
    assert pair(fig, "timely_acceptance_rate") == (1, 1)
    assert pair(fig, "on_time_completion_rate") == (0, 0)  # handling runs, not yet due
    assert fig["rates"]["satisfaction_rate"]["denominator"] == 0


def test_an_event_at_the_instant_itself_is_included(store) -> None:  # type: ignore[no-untyped-def]
    _, before = figures(store, "2026-03-22T08:59:59")
    _, on = figures(store, "2026-03-22T09:00:00")  # K closed at 09:00 that day
    assert (before["closed"], on["closed"]) == (0, 1)


def test_a_deadline_past_due_at_the_instant_is_late_without_a_tick(store) -> None:  # type: ignore[no-untyped-def]
    _, now = figures(store, None)  # the stored records: no tick ever marked L overdue
    assert now["overdue_now"] == 0 and pair(now, "on_time_completion_rate") == (1, 1)
    cases, fig = figures(store, "2026-06-30T23:00:00")  # L's 60 days ran out in May
    assert cases == 3
    assert fig["overdue_now"] == 2  # L's handling, M's acceptance notice (due 04-16)
    assert pair(fig, "on_time_completion_rate") == (1, 2)  # K in time, L late
    assert pair(fig, "timely_acceptance_rate") == (2, 3)  # K, L in time; M late


def test_as_of_the_last_event_equals_the_stored_records(store) -> None:  # type: ignore[no-untyped-def]
    stored = report(store).as_dict()
    folded = report(store, as_of=at("2026-04-01T09:00:00")).as_dict()
    assert folded.pop("as_of") == "2026-04-01T09:00:00+08:00" and stored.pop("as_of") is None
    assert folded == stored


def test_from_to_and_as_of_together(store) -> None:  # type: ignore[no-untyped-def]
    rep = report(store, start=date(2026, 3, 20), as_of=at("2026-03-31T00:00:00"))
    assert rep.cases == 1  # L (K was received before 03-20, M after the instant)
    assert rep.processes["standard_case"].by_state == {"accepted": 1}
    later = report(store, start=date(2026, 3, 20), as_of=at("2026-03-31T00:00:00")
                   + timedelta(days=2))
    assert later.cases == 2  # M, received 04-01
