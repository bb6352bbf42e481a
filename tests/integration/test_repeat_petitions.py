"""Repeated petitions (重信重访) across finished cases, on every store: a repeat of an
archived matter inside the look-back names it and can be declined as a duplicate; one
after the look-back is a first petition again; a repeat of a matter whose 复核 is final is
flagged, cannot be accepted, and is declined as 不再受理 (2022 arts. 19 ¶3, 36 ¶3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, Engine, SimulatedClock, TriggerRejected

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CLERK, DIRECTOR = Actor("王芳", "clerk"), Actor("钱主任", "office_director")
DEPUTY, BUREAU = Actor("赵副局长", "deputy_leader"), Actor("市信访局", "bureau")
MATTER = {"petitioner": "杨某", "subject": "征地补偿款发放"}
REPLY = {"claim": "请求补发", "findings": "已拨付", "proposed_result": "explained",
         "legal_basis": "土地管理法第四十八条"}


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=TZ))
    db = {"memory": None, "sqlite": f"sqlite:///{tmp_path / 'fe.db'}"}.get(request.param)
    if request.param == "postgresql":
        db = request.getfixturevalue("pg_url")
    return Engine(processes=[ROOT / "processes"], clock=clock, db=db), clock


def _replied(engine: Engine, clock: SimulatedClock) -> str:
    case = engine.start("standard_case", MATTER, actor=CLERK)
    for trigger, data, actor in [("accept", {}, CLERK), ("investigate", {}, CLERK),
                                 ("draft_reply", REPLY, CLERK), ("sign_off", {}, DIRECTOR),
                                 ("sign_off", {}, DEPUTY),
                                 ("issue_reply", {"reply_text": "已拨付。"}, CLERK)]:
        clock.advance(timedelta(days=1))
        engine.fire(case.id, trigger, data, actor=actor)
    return case.id


def _close(engine: Engine, case_id: str, opinion: str) -> None:
    engine.fire(case_id, "record_opinion", {"petitioner_opinion": opinion}, actor=CLERK)
    engine.fire(case_id, "close", {"result": "explained", "signed_by": "孙局长", "sealed": True},
                actor=CLERK)


def test_repeat_of_an_archived_matter_is_named_and_declined_as_duplicate(engine) -> None:  # type: ignore[no-untyped-def]
    engine, clock = engine
    first = _replied(engine, clock)
    _close(engine, first, "satisfied")
    assert engine.fire(first, "archive", actor=CLERK).state == "archived"
    clock.advance(timedelta(days=200))
    again = engine.start("standard_case", MATTER, actor=CLERK)
    assert again.duplicate_of == first and not again.data.get("repeat_after_final")
    declined = engine.fire(again.id, "decline", {"decline_reason": "duplicate", "earlier_case": first},
                           actor=CLERK)
    assert declined.state == "declined"
    letters = [n for e in engine.history(again.id) for n in e.notifications]
    assert [n["name"] for n in letters] == ["decline_letter_duplicate"]
    assert f"已作为案件{first}受理" in letters[0]["messages"]["zh"]
    clock.advance(timedelta(days=366))  # past the 365-day look-back of both earlier cases
    assert engine.start("standard_case", MATTER, actor=CLERK).duplicate_of is None


def test_repeat_after_final_recheck_cannot_be_accepted_and_is_declined(engine) -> None:  # type: ignore[no-untyped-def]
    engine, clock = engine
    first = _replied(engine, clock)
    clock.advance(timedelta(days=5))
    engine.fire(first, "request_review", actor=BUREAU)
    clock.advance(timedelta(days=10))
    engine.fire(first, "decide_review", {"review_opinion": "维持。"}, actor=BUREAU)
    clock.advance(timedelta(days=5))
    engine.fire(first, "request_recheck", actor=BUREAU)
    clock.advance(timedelta(days=10))
    done = engine.fire(first, "decide_recheck", {"recheck_opinion": "维持。", "result": "explained"},
                       actor=BUREAU)
    assert (done.state, done.data["final_decision"]) == ("closed", True)
    clock.advance(timedelta(days=40))
    again = engine.start("standard_case", MATTER, actor=CLERK)
    assert again.duplicate_of == first and again.data["repeat_after_final"] is True
    with pytest.raises(TriggerRejected, match="finally re-examined") as info:
        engine.fire(again.id, "accept", actor=CLERK)
    assert "final_after_recheck" in str(info.value)
    assert engine.case(again.id).state == "registered"
    engine.fire(again.id, "decline", {"decline_reason": "final_after_recheck", "earlier_case": first},
                actor=CLERK)
    other = engine.start("standard_case", {**MATTER, "subject": "宅基地确权"}, actor=CLERK)
    assert other.duplicate_of is None and not other.data.get("repeat_after_final")
    assert engine.fire(other.id, "accept", actor=CLERK).state == "accepted"


def test_the_flag_cannot_be_given_at_start(engine) -> None:  # type: ignore[no-untyped-def]
    engine, _ = engine
    with pytest.raises(Exception, match="repeat_after_final"):
        engine.start("standard_case", {**MATTER, "repeat_after_final": False}, actor=CLERK)
