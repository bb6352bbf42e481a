"""Shared helpers of the audit tests: an engine on a simulated clock and whole case walks."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flowengine import Actor, Case, Engine, SimulatedClock

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")
DIRECTOR = Actor("李明", "office_director")
DEPUTY = Actor("赵强", "deputy_leader")
RECEPTION = Actor("周洁", "reception")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def new_engine(start: str = "2026-03-02T09:00:00", **kwargs: object) -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock(at(start))
    return Engine(processes=[PROCESSES], clock=clock, **kwargs), clock  # type: ignore[arg-type]


def walk_standard(engine: Engine, clock: SimulatedClock, *, petitioner: str = "张三",
                  subject: str = "噪音扰民", opinion: str = "satisfied", filed: bool = True,
                  archive: bool = True, step: timedelta = timedelta(days=2)) -> Case:
    """A standard_case from registration to closing (and archiving), one step every `step`."""
    case = engine.start("standard_case", {"petitioner": petitioner, "subject": subject},
                        actor=CLERK)
    steps: list[tuple[str, dict[str, object], Actor]] = [("accept", {}, CLERK)]
    if filed:
        steps += [("request_filing", {}, CLERK), ("approve_filing", {}, DEPUTY)]
    else:
        steps += [("investigate", {}, CLERK)]
    steps += [
        ("assign", {"department": "城管局", "handler": "刘洋"}, CLERK),
        ("draft_reply", {"claim": "请求处理",
            "findings": "属实", "proposed_result": "supported", "legal_basis": "条例第三十二条"}, CLERK),
        ("sign_off", {}, DIRECTOR), ("sign_off", {}, DEPUTY),
        ("issue_reply", {"reply_text": "已责令整改"}, CLERK),
        ("record_opinion", {"petitioner_opinion": opinion}, CLERK),
        ("close", {"result": "supported", "signed_by": "李明", "sealed": True}, CLERK),
    ]
    if archive:
        steps.append(("archive", {}, CLERK))
    for trigger, data, actor in steps:
        clock.advance(step)
        case = engine.fire(case.id, trigger, data, actor=actor)
    return case
