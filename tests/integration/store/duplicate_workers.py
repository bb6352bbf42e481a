"""The child process of test_duplicate_race.py (a module of its own: "spawn" imports it)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flowengine.clock import SimulatedClock
from flowengine.engine.engine import Engine
from flowengine.records.case import Actor

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
AT = datetime(2026, 8, 3, 9, tzinfo=timezone(timedelta(hours=8)))


def start_same_petitions(db_url: str, rounds: int, barrier: Any, out: Any) -> None:
    """Each round: wait for every process, then start the round's petition at once."""
    engine = Engine(db=db_url, processes=[PROCESSES], clock=SimulatedClock(AT))
    clerk = Actor("王芳", "clerk")
    for r in range(rounds):
        barrier.wait(timeout=60)
        case = engine.start("standard_case", {"petitioner": f"信访人{r}", "subject": "征地补偿"},
                            actor=clerk, at=AT)
        out.put((r, case.id, case.duplicate_of))
