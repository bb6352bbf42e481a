"""Messages to the assigning authority and the 结案上报 go out exactly once per case, even
when a 复查 reopens the closed case and it is closed again (seed 000 §三(一), §四)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flowengine import Actor, Engine, SimulatedClock

ROOT = Path(__file__).resolve().parents[3]
TZ = ZoneInfo("Asia/Shanghai")
CLERK, DIRECTOR = Actor("王芳", "clerk"), Actor("钱主任", "office_director")
DEPUTY, PRINCIPAL = Actor("赵副局长", "deputy_leader"), Actor("孙局长", "principal")
BUREAU = Actor("市信访局", "bureau")
ASSIGNED = {"petitioner": "秦某", "subject": "小区违建", "source": "assigned", "importance": "important",
            "assigning_authority": "市信访局", "assigning_ref": "市信交〔2026〕21号",
            "assigned_due": "2026-04-30"}
CLOSE = {"result": "supported", "signed_by": "孙局长", "sealed": True,
         "authority_letter_ref": "区信函〔2026〕3号"}


def test_completion_report_and_closing_report_are_sent_once() -> None:
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=TZ))
    engine = Engine(processes=[ROOT / "processes"], clock=clock)
    case = engine.start("standard_case", ASSIGNED, actor=CLERK)
    Step = tuple[str, dict[str, Any], Actor]
    steps: list[Step] = [("accept", {}, CLERK), ("explain_delay", {"reason": "需要测绘"}, DIRECTOR),
             ("hand_down", {"hand_down_kind": "assign", "handed_to": "城关街道",
                            "hand_down_due": "2026-03-20"}, CLERK),
             ("submit_unit_report", {"unit_report": "已拆除", "claim": "请求拆除", "findings": "属实",
                                     "proposed_result": "supported", "legal_basis": "规划法"}, CLERK),
             ("sign_off", {}, PRINCIPAL), ("issue_reply", {"reply_text": "已拆除。"}, CLERK),
             ("record_opinion", {"petitioner_opinion": "unsatisfied"}, CLERK), ("close", CLOSE, CLERK),
             ("request_review", {}, BUREAU), ("decide_review", {"review_opinion": "维持。"}, BUREAU),
             ("close", CLOSE, CLERK)]
    for trigger, data, actor in steps:
        clock.advance(timedelta(days=1))
        engine.fire(case.id, trigger, data, actor=actor)
    sent = [n for e in engine.history(case.id) for n in e.notifications]
    names = [n["name"] for n in sent]
    assert engine.case(case.id).state == "closed"
    assert names.count("completion_report") == 1
    assert names.count("closing_report") == 1
    assert names.count("delay_explanation") == 1
    by_name = {n["name"]: n for n in sent}
    assert by_name["completion_report"]["to"] == ["field:assigning_authority"]
    assert by_name["closing_report"]["to"] == ["field:superior_office"]
    assert "区信访局：要信要访事项“小区违建”" in by_name["closing_report"]["messages"]["zh"]
    assert "因需要测绘未能在2026年4月30日前办结" in by_name["delay_explanation"]["messages"]["zh"]
