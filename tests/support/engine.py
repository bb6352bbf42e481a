"""Shared constants of the engine tests."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flowengine import Actor

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)
