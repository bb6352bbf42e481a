"""The per-case appendix (`report --cases`) as data and as the text/CSV/XLSX grids: dates,
deadline outcomes as the KPIs count them, and an as-of cut in the middle of a case."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from flowengine.audit.html.charts import count_ticks
from flowengine.audit.report import report, report_grids
from tests.support.audit import CLERK, at, new_engine, walk_standard


def test_appendix_lists_every_selected_case_with_dates_and_outcomes() -> None:
    """A: walked from 03-02 a step every 2 days (accept 03-04 … close 03-22, archive
    03-24); F: accepted 05-11, still open; tick on 09-01 marks its 60-day handling late."""
    engine, clock = new_engine("2026-03-02T09:00:00")
    a = walk_standard(engine, clock)
    clock.set(at("2026-05-11T09:00:00"))
    f = engine.start("standard_case", {"petitioner": "F", "subject": "工资"}, actor=CLERK)
    engine.fire(f.id, "accept", actor=CLERK)
    clock.set(at("2026-09-01T09:00:00"))
    engine.tick()
    rep = report(engine.store, engine.registry, cases=True)
    assert rep.appendix is not None
    la, lf = rep.appendix
    assert (la.id, la.received, la.closed, la.state) == (a.id, date(2026, 3, 2),
                                                         date(2026, 3, 22), "archived")
    assert {d.outcome for d in la.deadlines} == {"on_time"} and la.late == 0
    assert (lf.id, lf.closed, lf.late) == (f.id, None, 1)
    handling = [d for d in lf.deadlines if d.name == "handling"]
    assert handling and handling[0].outcome == "late" and handling[0].status == "overdue"
    grids = {g.title: g for g in report_grids(rep)}
    cases = grids["附录：案件明细"]
    assert cases.rows[0][:6] == [a.id, "信访事项办理", "归档", "2026-03-02", "2026-03-22",
                                 "2026-03-24"]
    deadlines = grids["附录：案件期限"].rows
    assert [r[6] for r in deadlines if r[0] == f.id and r[1] == "自受理之日起60日内办结"] == ["超期"]
    assert "appendix" in rep.as_dict() and "appendix" not in report(engine.store).as_dict()


def test_an_as_of_cut_shows_the_case_as_it_stood() -> None:
    """As of 03-10 A was accepted (03-04), not closed; its handling deadline pending."""
    engine, clock = new_engine("2026-03-02T09:00:00")
    walk_standard(engine, clock)
    rep = report(engine.store, engine.registry, cases=True, as_of=at("2026-03-10T00:00:00"))
    assert rep.appendix is not None
    [line] = rep.appendix
    assert line.closed is None and line.state != "archived"
    assert line.last_event == date(2026, 3, 8)
    assert {d.name: d.outcome for d in line.deadlines}["handling"] == "pending"


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_count_ticks_are_whole_and_cover_the_tallest_bar(top: float) -> None:
    ticks = count_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and 2 <= len(ticks) <= 11
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1 and str(steps.pop()).lstrip("0")[0] in "125"
