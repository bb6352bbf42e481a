"""The acceptance letter says what the law promises for that kind of case (60 days only
for 申诉求决类, the assigning authority's date for an assigned case), and no letter is
written to a petitioner whose name or address is unclear (2022 arts. 23, 34)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, Engine, SimulatedClock

ROOT = Path(__file__).resolve().parents[3]
CLERK = Actor("王芳", "clerk")
ASSIGNED = {"source": "assigned", "assigning_authority": "市信访局", "assigning_ref": "市信交〔2026〕9号",
            "assigned_due": "2026-04-15"}


def _letters(start: dict[str, Any]) -> list[tuple[str, str]]:
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    engine = Engine(processes=[ROOT / "processes"], clock=clock)
    case = engine.start("standard_case", {"petitioner": "周某", "subject": "噪音", **start},
                        actor=CLERK)
    engine.fire(case.id, "accept", actor=CLERK)
    last = engine.history(case.id)[-1]
    return [(n["name"], n["messages"]["zh"]) for n in last.notifications]


@pytest.mark.parametrize("start,name,says", [
    ({}, "acceptance_letter", "自受理之日起60日内办结"),
    ({"matter_kind": "suggestion"}, "acceptance_letter_suggestion", "将采纳情况告知您"),
    ({"matter_kind": "accusation"}, "acceptance_letter_accusation", "依规依纪依法处理"),
    ({**ASSIGNED, "matter_kind": "suggestion"}, "acceptance_letter_assigned", "将于2026年4月15日前办结"),
])
def test_one_letter_worded_for_the_kind_of_case(start: dict[str, Any], name: str, says: str) -> None:
    letters = _letters(start)
    assert [n for n, _ in letters] == [name]
    assert says in letters[0][1] and ("60日" not in letters[0][1] or name == "acceptance_letter")


@pytest.mark.parametrize("start", [{"contact_unclear": True}, {**ASSIGNED, "contact_unclear": True}])
def test_no_letter_when_name_or_address_is_unclear(start: dict[str, Any]) -> None:
    assert _letters(start) == []
