"""Helpers for the plugin tests: a recording test channel, an engine on a simulated clock,
and a standard case taken to the point where notifications flow."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from flowengine import Actor, Case, Engine, SimulatedClock, TriggerRejected
from flowengine.plugins import Notification, hookimpl
from flowengine.plugins.settings import Settings

SH = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
PROCESSES = str(Path(__file__).resolve().parents[2] / "processes")
CLERK = Actor("王芳", "clerk")
LEADER = Actor("李副局长", "deputy_leader")
PETITION = {"petitioner": "张三", "subject": "小区路灯不亮", "contact": "zhangsan@example.com"}

Failure = Callable[[Notification], BaseException | None]


class RecordingChannel:
    """Serves one channel; records every call; `fail(n)` may return an exception to raise."""

    def __init__(self, channel: str = "test", fail: Failure | None = None) -> None:
        self.channel = channel
        self.fail = fail
        self.calls: list[Notification] = []
        self.delivered: list[Notification] = []
        self.gate: threading.Event | None = None  # when set up, deliver waits for it

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return [self.channel]

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        if notification.channel != self.channel:
            return None
        self.calls.append(notification)
        if self.gate is not None:
            self.gate.wait(10)
        error = self.fail(notification) if self.fail else None
        if error is not None:
            raise error
        self.delivered.append(notification)
        return "ok"


def settings(**delivery: Any) -> Settings:
    """Settings with `[delivery]` keys as given (seconds for durations)."""
    return Settings.from_mapping({"delivery": delivery,
                                  "recipients": {"roles": {"supervisor": ["duban@example.gov.cn"]}}})


def make_engine(*plugins: object, start: datetime = T0) -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock(start)
    return Engine(processes=[PROCESSES], clock=clock, plugins=list(plugins)), clock


def accepted_case(engine: Engine, **data: Any) -> Case:
    case = engine.start("standard_case", {**PETITION, **data}, actor=CLERK)
    return engine.fire(case.id, "accept", actor=CLERK)


def extend(engine: Engine, case_id: str, reason: str = "需要补充调查", days: int = 30) -> Case:
    return engine.fire(case_id, "extend", {"reason": reason, "days": days}, actor=LEADER)


def through_every_observer_hook(engine: Engine, clock: SimulatedClock,
                                refused_by: Actor = CLERK) -> Case:
    """The standard case's path that calls every observer hook: accepted, extended, an
    'archive' refused (not allowed yet), then 120 days on and a tick (warning, overdue).
    Returns the case as accepted."""
    case = accepted_case(engine)
    extend(engine, case.id)
    with pytest.raises(TriggerRejected):
        engine.fire(case.id, "archive", actor=refused_by)
    clock.advance(timedelta(days=120))
    engine.tick()
    return case
