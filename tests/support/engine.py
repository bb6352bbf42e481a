"""Shared constants of the engine tests."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flowengine import Actor
from flowengine.records.case import Case

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


class DraftContext(NamedTuple):
    """A `DraftContext` by hand: the case before the event, the version, when and who."""

    case: Case
    process_id: str
    digest: str
    at: datetime
    actor: Actor
