"""KPIs over a small store whose every figure is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flowengine.audit.replay import PinnedDefinitions
from flowengine.audit.report import build_report, report, report_lines
from flowengine.store.base import CaseQuery

from .support import CLERK, DEPUTY, DIRECTOR, RECEPTION, at, new_engine, walk_standard


@pytest.fixture(scope="module")
def standard():  # type: ignore[no-untyped-def]
    """A: filed, satisfied, archived; B: not filed, unsatisfied, closed; C: redirected;
    D: still registered; E: duplicate of D; F: accepted, extended, then overdue."""
    engine, clock = new_engine("2026-03-02T09:00:00")
    a = walk_standard(engine, clock, petitioner="A", opinion="satisfied", filed=True)
    b = walk_standard(engine, clock, petitioner="B", opinion="unsatisfied", filed=False,
                      archive=False)
    clock.set(at("2026-05-11T09:00:00"))
    c = engine.start("standard_case", {"petitioner": "C", "subject": "越权事项"}, actor=CLERK)
    engine.fire(c.id, "redirect", {"redirect_to": "区法院"}, actor=CLERK)
    clock.set(at("2026-05-12T09:00:00"))
    d = engine.start("standard_case", {"petitioner": "D", "subject": "拆迁"}, actor=CLERK)
    e = engine.start("standard_case", {"petitioner": "D", "subject": "拆迁"}, actor=CLERK)
    f = engine.start("standard_case", {"petitioner": "F", "subject": "工资"}, actor=CLERK)
    engine.fire(f.id, "accept", actor=CLERK)
    clock.advance(timedelta(days=5))
    engine.fire(f.id, "extend", {"reason": "需要调查", "days": 10}, actor=DEPUTY)
    clock.set(at("2026-09-01T09:00:00"))
    engine.tick()
    ids = dict(A=a.id, B=b.id, C=c.id, D=d.id, E=e.id, F=f.id)
    return engine, ids


def test_standard_case_figures(standard) -> None:  # type: ignore[no-untyped-def]
    engine, ids = standard
    assert engine.case(ids["E"]).duplicate_of == ids["D"]
    doc = report(engine.store).as_dict()
    fig = doc["by_process"]["standard_case"]
    assert fig["cases"] == 6 and doc["cases"] == 6
    assert fig["by_state"] == {"accepted": 1, "archived": 1, "closed": 1, "redirected": 1,
                               "registered": 2}
    assert (fig["first_time"], fig["duplicates"]) == (5, 1)
    assert (fig["accepted"], fig["closed"], fig["filed"]) == (3, 2, 1)  # A B F; A B; A
    rates = fig["rates"]
    assert rates["closure_rate"] == {"value": 0.6667, "numerator": 2, "denominator": 3,
                                     "basis": "accepted cases (受理)"}
    assert (rates["closure_rate_filed"]["numerator"], rates["closure_rate_filed"]["denominator"]
            ) == (1, 1)
    assert (rates["filing_rate"]["numerator"], rates["filing_rate"]["denominator"]) == (1, 5)
    # finished deadlines: A, B (both met on time), C (acceptance met by redirect), F
    # (acceptance met; handling overdue) -> on time A, B, C
    assert (rates["on_time_rate"]["numerator"], rates["on_time_rate"]["denominator"]) == (3, 4)
    assert rates["satisfaction_rate"]["value"] == 0.5
    assert fig["opinions"] == {"satisfied": 1, "unsatisfied": 1, "no_response": 0}
    assert fig["overdue_now"] == 3  # D, E (acceptance notice), F (handling)
    assert fig["extensions"] == {"cases": 1, "total": 1}
    assert fig["deadlines"]["handling"]["overdue"] == 1
    assert fig["deadlines"]["handling"]["met_on_time"] == 2
    assert "complaints" not in fig


def test_from_to_selects_by_local_start_date(standard) -> None:  # type: ignore[no-untyped-def]
    engine, ids = standard
    rep = report(engine.store, start=date(2026, 5, 11), end=date(2026, 5, 11))
    assert rep.cases == 1
    assert rep.processes["standard_case"].by_state == {"redirected": 1}
    assert report(engine.store, process_id="medical_dispute").cases == 0
    lines = report_lines(report(engine.store))
    assert any("结案率 closure: 66.7% (2/3" in line for line in lines)


def _medical(engine, clock, category, kind, cause, claim="0"):  # type: ignore[no-untyped-def]
    case = engine.start("medical_dispute", {"complainant": "张某", "relation": "patient",
                                            "patient": f"患者{category}{clock.now().year}",
                                            "department_kind": kind, "claim_amount": claim},
                        actor=RECEPTION)
    clock.advance(timedelta(hours=2))
    engine.fire(case.id, "verify_identity", actor=RECEPTION)
    clock.advance(timedelta(days=1))
    engine.fire(case.id, "determine", {"category": category, "cause": cause,
                                       "responsibility": "none"}, actor=DIRECTOR)
    return case


def test_medical_complaint_statistics_by_category_and_year() -> None:
    engine, clock = new_engine("2025-03-03T09:00:00")
    _medical(engine, clock, "service_attitude", "outpatient", "hospital")
    _medical(engine, clock, "medical_quality", "inpatient", "hospital")
    clock.set(at("2026-01-05T09:00:00"))
    _medical(engine, clock, "service_attitude", "inpatient", "patient")
    engine.start("medical_dispute", {"complainant": "李某", "relation": "relative",
                                     "patient": "李某某", "department_kind": "medtech"},
                 actor=RECEPTION)
    rep = build_report(engine.store.cases(CaseQuery()), PinnedDefinitions(engine.store))
    stats = rep.as_dict()["by_process"]["medical_dispute"]["complaints"]
    assert stats["by"]["category"] == {"service_attitude": 2, "medical_quality": 1,
                                       "(unset)": 1}
    assert stats["by"]["department_kind"] == {"inpatient": 2, "outpatient": 1, "medtech": 1}
    assert stats["by_year"]["2025"]["cases"] == 2
    assert stats["by_year"]["2026"]["category"] == {"service_attitude": 1, "(unset)": 1}
    assert stats["by_year"]["2026"]["cause"] == {"patient": 1, "(unset)": 1}
    fig = rep.as_dict()["by_process"]["medical_dispute"]
    assert fig["accepted"] == 3  # the fourth is still at reception
    assert "satisfaction_rate" not in fig["rates"]


def test_on_time_rate_over_named_deadlines_and_per_deadline(standard) -> None:  # type: ignore[no-untyped-def]
    engine, _ = standard
    fig = report(engine.store, on_time_deadlines=["handling"]).as_dict()["by_process"][
        "standard_case"]
    # handling finished for A and B (on time); F's is overdue, not finished; C and D/E none
    assert fig["rates"]["on_time_rate"] == {"value": 1.0, "numerator": 2, "denominator": 2,
                                            "basis": "cases with a finished deadline (handling)"}
    acceptance = fig["deadlines"]["acceptance_notice"]
    assert (acceptance["met_on_time"], acceptance["overdue"]) == (4, 2)  # A B C F; D E
    assert acceptance["on_time_rate"]["value"] == 1.0
    assert fig["deadlines"]["handling"]["on_time_rate"]["denominator"] == 2
