"""Hand-built cases and sealed event histories for the store tests (no engine), so each
test controls exactly what is written and can compare it field by field after loading."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flowengine.records.case import Actor, Case, Deadline
from flowengine.records.events import GENESIS, Event, seal
from flowengine.store.sql import SqlStore

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
DIGEST = "d" * 64
PROCESS = "petition"
DEFINITION = """\
id: petition
version: "1"
duplicate_key: [petitioner, subject]
fields:
  petitioner: {type: string}
  subject: {type: string}
"""
DUPLICATE_KEY = ("petitioner", "subject")  # what the loader reads from DEFINITION


def deadline(name: str = "reply", due: datetime | None = None, **kw: Any) -> Deadline:
    due = due or T0 + timedelta(days=30)
    return Deadline(name=name, status=kw.pop("status", "open"), started_at=T0,
                    start_date=T0.date(), due=due, due_date=due.date(),
                    unit="working_days", amount=20, **kw)


def make_case(case_id: str, seq: int = 0, last_hash: str = "", **kw: Any) -> Case:
    data = kw.pop("data", {"petitioner": "张三", "subject": "拆迁补偿"})
    return Case(id=case_id, process_id=kw.pop("process_id", PROCESS), digest=DIGEST,
                state=kw.pop("state", "registered"), data=data, seq=seq, last_hash=last_hash,
                created_at=T0, updated_at=T0 + timedelta(minutes=seq),
                owner=Actor("王芳", "clerk"), **kw)


def make_events(case_id: str, count: int, after: int = 0, prev: str = GENESIS,
                **kw: Any) -> list[Event]:
    """`count` sealed, chained events following seq `after` (whose hash is `prev`)."""
    out: list[Event] = []
    for seq in range(after + 1, after + count + 1):
        fields: dict[str, Any] = {
            "type": "started" if seq == 1 else "fired",
            "trigger": None if seq == 1 else f"t{seq}",
            "source": None if seq == 1 else "registered", "dest": "registered",
            "data": {"amount": "30000.01", "note": f"第{seq}步"},
            "effects": ({"op": "started", "deadline": "reply",
                         "due": "2026-04-01T00:00:00+08:00"},),
            "notifications": ({"kind": "acceptance", "id": f"{case_id}:{seq}:0"},),
        }
        fields.update(kw)
        event = seal(Event(case_id=case_id, seq=seq, at=T0 + timedelta(minutes=seq),
                           actor=Actor("王芳", "clerk"), process_id=PROCESS, digest=DIGEST,
                           prev_hash=prev, **fields))
        out.append(event)
        prev = event.hash
    return out


def store_case(store: SqlStore, case_id: str, events: int = 1, **kw: Any) -> Case:
    """Append a new case with `events` events; returns the stored projection."""
    evs = make_events(case_id, events)
    case = make_case(case_id, seq=events, last_hash=evs[-1].hash, **kw)
    store.append(case, evs, 0, final=kw.get("state") == "closed")
    return case
