"""A case's events are in time order even when a deadline starts with its warning window
already open: the hand-down's unit report is due from a date field (2026-01-06, warn 3
days), so its warning instant (01-04 00:00) lies before the hand-down itself (01-05). The
warning is recorded at the hand-down's instant, not a day before it (found by the replay
property test: `replay --until` relies on the order)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, Engine
from flowengine.audit.redecide import _differences
from flowengine.audit.replay import Replayer
from flowengine.audit.verify import verify_store
from flowengine.records.events import Event, seal
from flowengine.store.sql import SqlStore
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


def _late_warning_history(db: str | None, hand_down_at: datetime) -> list[Event]:
    engine = Engine(db, processes=[ROOT / "processes"])
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"}, actor=CLERK,
                        at=at("2026-01-05T09:00"))
    engine.fire(case.id, "accept", actor=CLERK, at=at("2026-01-05T09:01"))
    engine.fire(case.id, "hand_down", {"hand_down_kind": "transfer", "handed_to": "城东街道",
                                       "hand_down_due": "2026-01-06"},
                actor=CLERK, at=hand_down_at)
    engine.tick(at("2026-01-05T12:00"))  # a later call: the SQL store reads the case back
    return engine.history(case.id)


@pytest.mark.parametrize("zone", [TZ, UTC], ids=["local", "utc"])
def test_a_late_timer_has_the_same_text_on_every_store(tmp_path: Path, zone: Any) -> None:
    """The late warning is written in its due instant's offset, whatever offset the store
    hands the case's last instant back in (SQLite: UTC) and whatever zone the caller's
    clock gave: the same history has the same event texts on both stores, and verifies."""
    hand_down = at("2026-01-05T09:02").astimezone(zone)
    memory = _late_warning_history(None, hand_down)
    sql = _late_warning_history(f"sqlite:///{tmp_path / 'cases.db'}", hand_down)
    assert memory[-1].type == "timer" and memory[-1].at.utcoffset() == timedelta(hours=8)
    def texts(events: list[Event]) -> list[tuple[object, ...]]:  # case ids are drawn at random
        return [(e.body()["at"], e.type, e.effects) for e in events]

    assert texts(sql) == texts(memory)
    store = SqlStore(f"sqlite:///{tmp_path / 'cases.db'}")
    try:
        assert verify_store(store).ok
    finally:
        store.close()


def test_re_deciding_compares_the_instant_not_its_offset() -> None:
    """Before the timer was written in its due instant's offset, a late timer on SQLite
    took UTC's: the same instant, so re-deciding accepts it; another instant it does not."""
    events = _late_warning_history(None, at("2026-01-05T09:02"))
    planned = events[-1]
    in_utc = seal(replace(planned, at=planned.at.astimezone(UTC)))
    assert _differences(planned, in_utc, None) == []
    a_minute_later = seal(replace(planned, at=planned.at + timedelta(minutes=1)))
    assert _differences(planned, a_minute_later, None) == ["at"]
