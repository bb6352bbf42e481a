"""The histories the tamper and read-only tests start from: cases of `standard_case` taken
through eight events each, written through the API to any database URL and closed cleanly
(on SQLite the WAL is checkpointed into the file)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flowengine import Actor, Engine
from flowengine.engine.fold import apply, new_case
from flowengine.plugins import Notification, hookimpl
from flowengine.records.events import seal
from flowengine.store.codec import case_values
from flowengine.store.schema import cases, events
from flowengine.store.sql import SqlStore
from flowengine.store.sqlrows import event_row

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
CLERK = Actor("王芳", "clerk")
STEPS = [("accept", {}, "clerk"), ("investigate", {}, "clerk"),
         ("assign", {"department": "城管局", "handler": "刘洋"}, "clerk"),  # seq 4
         ("draft_reply", {"claim": "请求处理",
             "findings": "属实", "proposed_result": "supported", "legal_basis": "条例第三十二条"}, "clerk"),
         ("sign_off", {}, "office_director"), ("sign_off", {}, "deputy_leader"),
         ("issue_reply", {"reply_text": "已整改"}, "clerk")]


class Sink:
    """A plugin serving one channel that accepts every notice (so the outbox gets rows)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return [self.channel]

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        return "ok" if notification.channel == self.channel else None


def build_cases(url: str, petitioners: tuple[str, ...], channels: tuple[str, ...] = ()) -> list[str]:
    """One case per petitioner, eight events each; their ids in that order. `channels`:
    the notices get an outbox row for each."""
    store = SqlStore(url)
    engine = Engine(store=store, processes=[PROCESSES], plugins=[Sink(c) for c in channels])
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


def forge(url: str, case_id: str, keep: int, changes: list[dict[str, Any]]) -> None:
    """What a forger who knows the chain format can do: keep the first `keep` events of the
    case, write one event per entry of `changes` after them (each the stored event of that
    number, or the last one, with those fields changed), sealed and linked with valid
    hashes, and the case record rewritten to exactly their replay."""
    store = SqlStore(url)
    engine = Engine(store=store, processes=[PROCESSES])
    stored = list(store.events(case_id))
    process = engine.compiled(engine.case(case_id)).process
    history = stored[:keep]
    for i, change in enumerate(changes):
        seq = keep + 1 + i
        base = stored[seq - 1] if seq <= len(stored) else stored[-1]
        history.append(seal(replace(base, seq=seq, prev_hash=history[-1].hash, **change)))
    case = new_case(process, history[0])
    for event in history:
        apply(process, case, event)
    row = case_values(case, case.state in process.final_states, process.duplicate_key)
    with store.engine.begin() as conn:
        conn.execute(events.delete().where(events.c.case_id == case_id, events.c.seq > keep))
        conn.execute(events.insert(), [event_row(e) for e in history[keep:]])
        conn.execute(cases.update().where(cases.c.id == case_id).values(**row))
    store.close()
