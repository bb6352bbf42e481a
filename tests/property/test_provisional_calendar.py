"""Properties of the provisional calendar and of the recount when official data arrives.

(a) The provisional rule (weekends + the 13 statutory days, no 调休) agrees with the
    official arrangements of 2025 and 2026 on every day except the make-up working days and
    the extra days off the State Council added around the festivals: the statutory days are
    always days off in the official data.
(b) A recount is idempotent and never touches a deadline that did not depend on a
    provisional year, whatever the official arrangement of 2027 turns out to be.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine import Actor, Engine
from flowengine.calendar import national_calendar
from flowengine.calendar.provisional import provisional_year, statutory_days

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")


def _official_rest(d: date) -> bool:
    return not chinese_calendar.is_workday(d)


@settings(max_examples=400, deadline=None)
@given(st.dates(date(2025, 1, 1), date(2026, 12, 31)))
def test_a_provisional_and_official_agree_but_for_tiaoxiu(d: date) -> None:
    provisional = provisional_year(d.year)
    rest = not provisional.is_workday(d)
    makeup = d.weekday() >= 5 and not _official_rest(d)  # 调休上班
    extra_off = d.weekday() < 5 and _official_rest(d) and d not in statutory_days(d.year)
    if rest:
        assert _official_rest(d) or makeup, d
    else:
        assert not _official_rest(d) or extra_off, d


def test_a_the_statutory_days_are_days_off_in_every_official_year_under_the_2025_law() -> None:
    for year in (2025, 2026):
        days = statutory_days(year)
        assert len(days) == 13
        assert all(_official_rest(d) for d in days), year


# -- (b) recount -----------------------------------------------------------------------

year_2027 = st.lists(st.integers(0, 364), max_size=25, unique=True)


def _file(offs: list[int], work: list[int]) -> str:
    """A made-up full-year 2027 file: `offs` days off, `work` working days (day numbers)."""
    jan1 = date(2027, 1, 1)
    holidays = ", ".join(f"{{date: {jan1 + timedelta(days=i)}, name: 假}}" for i in offs)
    workdays = ", ".join(f"{{date: {jan1 + timedelta(days=i)}, name: 班}}"
                         for i in work if i not in offs)
    return f"name: made-up 2027 (test)\ncovers: [2027]\nholidays: [{holidays}]\nworkdays: [{workdays}]\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(starts=st.lists(st.integers(0, 120), min_size=1, max_size=4), offs=year_2027, work=year_2027)
def test_b_recount_is_idempotent_and_leaves_official_deadlines_alone(
        tmp_path_factory, starts: list[int], offs: list[int], work: list[int]) -> None:
    engine = Engine(processes=[ROOT / "processes"])
    ids = []
    for i, day in enumerate(starts):
        at = datetime(2026, 9, 1, 9, tzinfo=TZ) + timedelta(days=day)
        case = engine.start("standard_case", {"petitioner": f"P{i}", "subject": f"S{i}"},
                            actor=CLERK, at=at)
        ids.append(engine.fire(case.id, "accept", actor=CLERK, at=at + timedelta(minutes=5)).id)
    before = {cid: engine.case(cid) for cid in ids}

    folder = tmp_path_factory.mktemp("v2")
    (folder / "calendars").mkdir()
    (folder / "calendars" / "cn-2027.yaml").write_text(_file(offs, work), encoding="utf-8")
    text = (ROOT / "processes" / "standard_case.yaml").read_text(encoding="utf-8")
    (folder / "standard_case.yaml").write_text(text.replace(
        "timezone: Asia/Shanghai\n", "timezone: Asia/Shanghai\ncalendars: [calendars/cn-2027.yaml]\n"),
        encoding="utf-8")
    engine.load(folder / "standard_case.yaml")
    now = datetime(2026, 12, 31, 9, tzinfo=TZ)
    first = engine.reconcile(now)
    touched = {e.case_id for e in first}
    for cid, case in before.items():
        provisional = any(d.provisional for d in case.deadlines.values() if d.active)
        assert (cid in touched) is provisional  # recounted exactly when it was provisional
        if not provisional:
            assert engine.case(cid).deadlines == case.deadlines
        else:
            assert all(not d.provisional for d in engine.case(cid).deadlines.values() if d.active)
    assert engine.reconcile(now) == []
    assert engine.reconcile(now + timedelta(days=1)) == []
    assert national_calendar().provisional(2027)  # the shared national calendar is untouched
