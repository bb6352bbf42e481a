"""Property: whatever the scenario and however the channels fail, every notification the
definitions call for ends delivered exactly once per channel or dead-lettered: never lost
(each has its outbox rows), never duplicated (the remote side sees each key at most once),
never left pending once retries run out — also across worker restarts.

Random scenarios of start / fire / advance+tick / deliver / restart on the standard case,
on a MemoryStore and a simulated clock; two test channels fail by generated patterns
(ok, transient error, refusal), cycling per attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine import Actor, Engine, SimulatedClock, TriggerRejected
from flowengine.plugins import DeliveryError, Notification, hookimpl
from flowengine.plugins.manager import PluginDispatch
from flowengine.plugins.settings import Settings
from flowengine.store.memory import MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
PROCESS = str(Path(__file__).resolve().parents[2] / "processes" / "standard_case.yaml")
CLERK, LEADER = Actor("王芳", "clerk"), Actor("李副局长", "deputy_leader")
CHANNELS = ("a", "b")
ENGINE = Engine(processes=[PROCESS], clock=SimulatedClock(T0), plugins=[Settings()])


@dataclass
class Remote:
    """The far side of a channel: what it received, and how its attempts go."""

    pattern: list[str]
    received: list[str] = field(default_factory=list)
    attempts: int = 0


class FlakyChannel:
    def __init__(self, name: str, remote: Remote) -> None:
        self.name, self.remote = name, remote

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return [self.name]

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        if notification.channel != self.name:
            return None
        outcome = self.remote.pattern[self.remote.attempts % len(self.remote.pattern)]
        self.remote.attempts += 1
        if outcome == "transient":
            raise ConnectionError("flaky")
        if outcome == "refused":
            raise DeliveryError("refused", retryable=False)
        self.remote.received.append(notification.id)
        return "ok"


TRIGGERS = {"accept": CLERK, "extend": LEADER, "redirect": CLERK, "investigate": CLERK,
            "request_filing": CLERK}
OPS = st.one_of(
    st.tuples(st.just("start")),
    st.tuples(st.just("fire"), st.integers(0, 3), st.sampled_from(sorted(TRIGGERS)),
              st.integers(1, 20)),
    st.tuples(st.just("advance"), st.integers(1, 50)),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("restart")),
)
PATTERN = st.lists(st.sampled_from(["ok", "ok", "transient", "refused"]), min_size=1, max_size=6)


def _dispatch(engine: Engine, remotes: dict[str, Remote], policy: Settings) -> PluginDispatch:
    channels = [FlakyChannel(name, remotes[name]) for name in CHANNELS]
    return PluginDispatch([*channels, policy], store=engine.store, clock=engine.clock,
                          autoload=False)


def _run(engine: Engine, clock: SimulatedClock, ops: list[tuple[Any, ...]],
         remotes: dict[str, Remote], policy: Settings) -> None:
    cases: list[str] = []
    for op in ops:
        if op[0] == "start":
            subject = f"事项{len(cases)}"
            cases.append(engine.start("standard_case", {"petitioner": "张三", "subject": subject,
                                                        "contact": "zs@example.com"},
                                      actor=CLERK).id)
        elif op[0] == "fire" and cases:
            _, index, trigger, days = op
            data = {"reason": "需要调查", "days": days, "redirect_to": "市卫健委"}
            try:
                engine.fire(cases[index % len(cases)], trigger, data, actor=TRIGGERS[trigger])
            except TriggerRejected:
                pass
        elif op[0] == "advance":
            clock.advance(timedelta(days=op[1]))
            engine.tick()
        elif op[0] == "deliver":
            engine.plugins.deliver_due()
        elif op[0] == "restart":
            engine.plugins = _dispatch(engine, remotes, policy)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(OPS, max_size=20), pattern_a=PATTERN, pattern_b=PATTERN,
       max_attempts=st.integers(1, 4), permanent=st.integers(1, 2))
def test_every_notification_is_delivered_once_or_dead_lettered(
        ops: list[tuple[Any, ...]], pattern_a: list[str], pattern_b: list[str],
        max_attempts: int, permanent: int) -> None:
    clock = SimulatedClock(T0)
    engine = ENGINE
    engine.store, engine.clock = MemoryStore(), clock
    remotes = {"a": Remote(pattern_a), "b": Remote(pattern_b)}
    policy = Settings.from_mapping({"delivery": {
        "max_attempts": max_attempts, "permanent_attempts": permanent,
        "backoff_seconds": 60, "backoff_max_seconds": 3600}})
    engine.plugins = _dispatch(engine, remotes, policy)
    _run(engine, clock, [("start",), *ops], remotes, policy)
    for _ in range(max_attempts + 1):  # the worker keeps going until nothing is due
        clock.advance(timedelta(hours=1))
        engine.plugins.deliver_due()

    called_for = {f"{n['id']}:{ch}" for e in engine.store.all_events()
                  for n in e.notifications for ch in CHANNELS}
    rows = {r.id: r for r in engine.store.outbox()}
    assert set(rows) == called_for  # never lost
    assert {r.status for r in rows.values()} <= {"delivered", "dead"}  # never stuck
    for name, remote in remotes.items():
        assert len(remote.received) == len(set(remote.received))  # never duplicated
        delivered = {i for i, r in rows.items() if r.channel == name and r.status == "delivered"}
        assert set(remote.received) == delivered
    for row in rows.values():
        if row.status == "dead":  # a refusal gives up sooner, never later
            assert min(permanent, max_attempts) <= row.attempts <= max_attempts
