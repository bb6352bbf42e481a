"""KPIs over small stores whose every figure is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from flowengine import Engine, SimulatedClock
from flowengine.audit.replay import PinnedDefinitions
from flowengine.audit.report import build_report, outcome, percent, report, report_lines
from flowengine.records.case import Deadline
from tests.support.audit import CLERK, DEPUTY, DIRECTOR, at, new_engine, walk_standard


def rate(fig: dict, name: str) -> tuple[int, int]:  # type: ignore[type-arg]
    r = fig["rates"][name]
    return r["numerator"], r["denominator"]


@pytest.fixture(scope="module")
def standard():  # type: ignore[no-untyped-def]
    """A: filed, satisfied, archived; B: not filed, unsatisfied, closed; C: redirected;
    D: still registered; E: duplicate of D; F: accepted, extended, then overdue (tick on
    09-01). Every deadline of A and B is met on time (a step every 2 days)."""
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


def test_counts_and_case_based_rates(standard) -> None:  # type: ignore[no-untyped-def]
    engine, ids = standard
    assert engine.case(ids["E"]).duplicate_of == ids["D"]
    fig = report(engine.store).as_dict()["by_process"]["standard_case"]
    assert fig["cases"] == 6
    assert (fig["first_time"], fig["duplicates"]) == (5, 1)
    assert (fig["accepted"], fig["closed"], fig["filed"]) == (3, 2, 1)  # A B F; A B; A
    # 立案率 over accepted first-time cases (A B F), not over all first-time ones (C, D too)
    assert rate(fig, "filing_rate") == (1, 3)
    assert fig["rates"]["filing_rate"]["percent"] == 33.33
    assert rate(fig, "closure_rate") == (2, 3)
    assert fig["rates"]["closure_rate"]["percent"] == 66.67
    assert rate(fig, "closure_rate_filed") == (1, 1)
    assert rate(fig, "satisfaction_rate") == (1, 2)  # A satisfied, B not
    assert rate(fig, "duplicate_rate") == (1, 6)  # E of six received
    assert rate(fig, "extension_rate") == (1, 3)  # F of the three accepted
    assert fig["extensions"] == {"cases": 1, "total": 1}
    assert fig["overdue_now"] == 3  # D, E (acceptance notice), F (handling)


def test_deadline_rates_follow_the_declared_deadlines(standard) -> None:  # type: ignore[no-untyped-def]
    engine, _ = standard
    fig = report(engine.store).as_dict()["by_process"]["standard_case"]
    # 及时受理率 (acceptance_notice): A B C F met in time; D E overdue
    assert rate(fig, "timely_acceptance_rate") == (4, 6)
    # 按期办结率 and 按期答复率 (handling; review/recheck never started): A B in time, F late;
    # C D E never reached handling and are not counted
    assert rate(fig, "on_time_completion_rate") == (2, 3)
    assert rate(fig, "on_time_reply_rate") == (2, 3)
    handling = fig["deadlines"]["handling"]
    assert (handling["on_time"], handling["late"], handling["extended"]) == (2, 1, 1)
    assert handling["by_status"] == {"met": 2, "overdue": 1}
    assert fig["deadlines"]["acceptance_notice"]["on_time_rate"]["percent"] == 66.67


def test_deadline_option_overrides_completion_deadlines(standard) -> None:  # type: ignore[no-untyped-def]
    engine, _ = standard
    fig = report(engine.store, on_time_deadlines=["acceptance_notice"]).as_dict()[
        "by_process"]["standard_case"]
    assert rate(fig, "on_time_completion_rate") == (4, 6)
    assert rate(fig, "on_time_reply_rate") == (2, 3)  # still the declared ones


def test_from_to_selects_by_local_start_date(standard) -> None:  # type: ignore[no-untyped-def]
    engine, _ = standard
    rep = report(engine.store, start=date(2026, 5, 11), end=date(2026, 5, 11))
    assert rep.cases == 1
    assert rep.processes["standard_case"].by_state == {"redirected": 1}
    assert report(engine.store, process_id="medical_dispute").cases == 0
    text = "\n".join(report_lines(report(engine.store)))
    assert "结案率" in text and "66.67" in text and "及时受理率" in text


def test_late_acceptance_and_extension_within_the_new_due_date() -> None:
    """G accepted on day 20 (the notice was due after 15 days): late although no tick ran.
    H's handling (60 days from 03-03: 05-02, rolled past 劳动节 to 05-06) is extended by
    10 days (counted from the day the period actually ended, 05-06: Saturday 05-16,
    rolled to 05-18) and replied on 05-10: in time only because of the extension."""
    engine, clock = new_engine("2026-03-02T09:00:00")
    g = engine.start("standard_case", {"petitioner": "G", "subject": "噪音"}, actor=CLERK)
    clock.set(at("2026-03-03T09:00:00"))
    h = engine.start("standard_case", {"petitioner": "H", "subject": "供暖"}, actor=CLERK)
    engine.fire(h.id, "accept", actor=CLERK)
    clock.set(at("2026-03-22T09:00:00"))
    engine.fire(g.id, "accept", actor=CLERK)
    assert engine.case(h.id).deadlines["handling"].due_date == date(2026, 5, 6)
    clock.set(at("2026-04-20T09:00:00"))
    engine.fire(h.id, "extend", {"reason": "情况复杂", "days": 10}, actor=DEPUTY)
    for trigger, data, actor in (("investigate", {}, CLERK),
                                 ("draft_reply", {"claim": "请求处理", "findings": "属实",
                                                  "proposed_result": "explained",
                                                  "legal_basis": "条例第三十二条"}, CLERK),
                                 ("sign_off", {}, DIRECTOR), ("sign_off", {}, DEPUTY)):
        engine.fire(h.id, trigger, data, actor=actor)
    clock.set(at("2026-05-10T09:00:00"))
    engine.fire(h.id, "issue_reply", {"reply_text": "已说明"}, actor=CLERK)
    assert engine.case(h.id).deadlines["handling"].due_date == date(2026, 5, 18)
    assert engine.case(g.id).deadlines["acceptance_notice"].late
    fig = report(engine.store).as_dict()["by_process"]["standard_case"]
    assert rate(fig, "timely_acceptance_rate") == (1, 2)  # H in time; G late
    assert rate(fig, "on_time_completion_rate") == (1, 1)  # H; G's handling still runs
    assert fig["deadlines"]["handling"]["pending"] == 1  # G's, not yet due
    assert fig["extensions"] == {"cases": 1, "total": 1}


def test_superseded_and_unknown_statuses_count_neither_on_time_nor_late() -> None:
    def dl(status: str, late: bool = False) -> Deadline:
        return Deadline("handling", status, at("2026-03-02T09:00:00"), None,  # type: ignore[arg-type]
                        at("2026-05-01T00:00:00"), None, "days", 60, late=late)

    assert [outcome(dl(s)) for s in ("met", "overdue", "expired", "open", "paused")] == [
        "on_time", "late", "late", "pending", "pending"]
    assert outcome(dl("met", late=True)) == "late"
    assert outcome(dl("open", late=True)) == "late"  # overdue, then extended
    assert [outcome(dl(s)) for s in ("cancelled", "superseded", "withdrawn")] == ["neither"] * 3
    assert outcome(dl("open"), as_of=at("2026-05-01T00:00:00")) == "late"  # due has come
    assert outcome(dl("open"), as_of=at("2026-04-30T23:59:59")) == "pending"


def test_superseded_deadline_is_left_out_of_the_rate() -> None:
    """Two accepted cases; X's handling met in time, Y's superseded (escalated): 1/1,
    not 1/2 (Y is hand-built as a record: no shipped process supersedes yet)."""
    engine, clock = new_engine("2026-03-02T09:00:00")
    x = walk_standard(engine, clock, petitioner="X", archive=False)
    y = engine.start("standard_case", {"petitioner": "Y", "subject": "征地"}, actor=CLERK)
    y = engine.fire(y.id, "accept", actor=CLERK)
    y.deadlines["handling"].status = "superseded"
    rep = build_report([engine.case(x.id), y], PinnedDefinitions(engine.store, engine.registry))
    fig = rep.as_dict()["by_process"]["standard_case"]
    assert rate(fig, "on_time_completion_rate") == (1, 1)
    assert fig["deadlines"]["handling"]["neither"] == 1


CUSTOM = """\
id: county_reply
version: "1"
title: 县级答复
timezone: Asia/Shanghai
fields:
  opinion: {type: enum, values: [satisfied, unsatisfied, no_response], title: 意见}
states:
  registered: {initial: true, title: 登记}
  accepted: {title: 受理}
  replied: {title: 答复}
  closed: {final: true, title: 结案}
  withdrawn: {final: true, title: 撤回}
transitions:
  - {trigger: accept, source: registered, dest: accepted}
  - {trigger: reply, source: accepted, dest: replied}
  - {trigger: withdraw, source: accepted, dest: withdrawn}
  - {trigger: close, source: replied, dest: closed, accepts: [opinion]}
deadlines:
  answer:
    start: {trigger: accept}
    stop: {enter: replied}
    length: 10 days
    kpi: [on_time_reply, on_time_completion]
"""


def test_an_integrators_process_gets_the_figures_it_declares(tmp_path: Path) -> None:
    """P replied in time (satisfied), Q withdrawn (its deadline cancelled: not counted),
    R replied after 20 days (late, no_response: not a rating)."""
    (tmp_path / "county_reply.yaml").write_text(CUSTOM, encoding="utf-8")
    clock = SimulatedClock(at("2026-03-02T09:00:00"))
    engine = Engine(processes=[tmp_path], clock=clock)
    for name, days, last, opinion in (("P", 3, "reply", "satisfied"), ("Q", 3, "withdraw", None),
                                      ("R", 20, "reply", "no_response")):
        case = engine.start("county_reply", {}, actor=CLERK)
        engine.fire(case.id, "accept", actor=CLERK)
        clock.advance(timedelta(days=days))
        engine.fire(case.id, last, actor=CLERK)
        if opinion:
            engine.fire(case.id, "close", {"opinion": opinion}, actor=CLERK)
        assert name
    fig = report(engine.store).as_dict()["by_process"]["county_reply"]
    assert rate(fig, "on_time_reply_rate") == (1, 2)
    assert rate(fig, "on_time_completion_rate") == (1, 2)
    assert "timely_acceptance_rate" not in fig["rates"]  # no deadline declares it
    assert "filing_rate" not in fig["rates"]  # no `filed` field
    assert fig["deadlines"]["answer"]["by_status"] == {"cancelled": 1, "met": 2}
    assert rate(fig, "satisfaction_rate") == (1, 1)
    assert rate(fig, "closure_rate") == (2, 2)  # Q withdrawn is final, not closing: not accepted


def test_percent_rounds_half_up_to_two_decimals() -> None:
    assert percent(199, 958) == 20.77 and percent(380, 958) == 39.67
    assert percent(1, 8) == 12.5 and percent(1, 800) == 0.13  # 0.125 -> 0.13 (half up)
    assert percent(1, 0) is None
