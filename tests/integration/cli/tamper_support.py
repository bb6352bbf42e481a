"""The histories the tamper and read-only tests start from: cases of `standard_case` taken
through eight events each, written through the API to any database URL and closed cleanly
(on SQLite the WAL is checkpointed into the file)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flowengine import Actor, Engine
from flowengine.store.sql import SqlStore

from .conftest import PROCESSES

CLERK = Actor("王芳", "clerk")
STEPS = [("accept", {}, "clerk"), ("investigate", {}, "clerk"),
         ("assign", {"department": "城管局", "handler": "刘洋"}, "clerk"),  # seq 4
         ("draft_reply", {"claim": "请求处理",
             "findings": "属实", "proposed_result": "supported", "legal_basis": "条例第三十二条"}, "clerk"),
         ("sign_off", {}, "office_director"), ("sign_off", {}, "deputy_leader"),
         ("issue_reply", {"reply_text": "已整改"}, "clerk")]


def build_cases(url: str, petitioners: tuple[str, ...]) -> list[str]:
    """One case per petitioner, eight events each; their ids in that order."""
    store = SqlStore(url)
    engine = Engine(store=store, processes=[PROCESSES])
    t = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    ids = []
    for who in petitioners:
        case = engine.start("standard_case", {"petitioner": who, "subject": "噪音"},
                            actor=CLERK, at=t)
        for i, (trigger, data, role) in enumerate(STEPS):
            engine.fire(case.id, trigger, data, actor=Actor("王芳", role),
                        at=t + timedelta(days=i + 1))
        ids.append(case.id)
    store.close()
    return ids
