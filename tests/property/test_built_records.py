"""`records.built`: the copies a fire makes without the dataclass machinery equal the
ones `dataclasses.replace` makes, and share nothing mutable with the original."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from flowengine.records.case import Actor, Case, Deadline

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NAMES = st.text(alphabet="abcxyz_", min_size=1, max_size=6)


@st.composite
def deadlines(draw: st.DrawFn) -> Deadline:
    days = draw(st.integers(1, 90))
    pauses = draw(st.lists(st.tuples(st.dates(), st.dates()), max_size=2))
    return Deadline(name=draw(NAMES), status=draw(st.sampled_from(["open", "paused", "met"])),
                    started_at=T0, start_date=T0.date(), due=T0 + timedelta(days=days),
                    due_date=date(2026, 3, 2) + timedelta(days=days), unit="days",
                    amount=days, granted=draw(st.lists(st.integers(1, 30), max_size=3)),
                    pauses=pauses, provisional=tuple(draw(st.lists(st.integers(2026, 2030),
                                                                   max_size=2))))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    ds = draw(st.lists(deadlines(), max_size=3, unique_by=lambda d: d.name))
    return Case(id=draw(NAMES), process_id="p", digest="d" * 64, state=draw(NAMES),
                data=draw(st.dictionaries(NAMES, st.one_of(st.integers(), NAMES), max_size=4)),
                deadlines={d.name: d for d in ds}, owner=Actor("a", "clerk"))


@given(cases())
def test_a_case_copy_equals_a_deep_copy_and_shares_nothing_mutable(case: Case) -> None:
    before = copy.deepcopy(case)
    made = case.copy()
    assert made == replace(case, data=dict(case.data),
                           deadlines={k: replace(d) for k, d in case.deadlines.items()})
    assert made == before
    made.data["changed"] = 1
    for d in made.deadlines.values():
        d.pauses.append((date(2026, 1, 1), date(2026, 1, 2)))
        d.granted.append(99)
        d.status = "cancelled"
    assert case == before  # the original is untouched
