"""A case's events are in time order even when a deadline starts with its warning window
already open: the hand-down's unit report is due from a date field (2026-01-06, warn 3
days), so its warning instant (01-04 00:00) lies before the hand-down itself (01-05). The
warning is recorded at the hand-down's instant, not a day before it (found by the replay
property test: `replay --until` relies on the order)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flowengine import Actor, Engine
from flowengine.audit.replay import Replayer
from tests.support.engine import ROOT

TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_a_warning_already_due_is_recorded_at_the_step_not_before_it() -> None:
    engine = Engine(processes=[ROOT / "processes"])
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"}, actor=CLERK,
                        at=at("2026-01-05T09:00"))
    engine.fire(case.id, "accept", actor=CLERK, at=at("2026-01-05T09:01"))
    engine.fire(case.id, "hand_down", {"hand_down_kind": "transfer", "handed_to": "城东街道",
                                       "hand_down_due": "2026-01-06"},
                actor=CLERK, at=at("2026-01-05T09:01"))
    engine.tick(at("2026-01-05T12:00"))
    events = engine.history(case.id)
    assert [e.at for e in events] == sorted(e.at for e in events)
    warning = events[-1]
    assert (warning.type, warning.effects[0]["op"], warning.at) == (
        "timer", "warned", at("2026-01-05T09:01"))
    until = Replayer(engine.store).replay(case.id, until=at("2026-01-05T09:01"))
    assert until.case is not None and until.case.seq == warning.seq
