"""Where time comes from. The only module in flowengine allowed to read the wall clock.

The engine asks a `Clock` for "now", so a host can pass its own, a simulation can move time
by hand, and replay gives the same answer every time. A test greps the package to keep
`datetime.now` and `time.time` out of every other module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


@runtime_checkable
class Clock(Protocol):
    """Anything with `now()` returning a timezone-aware datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC. Used by the CLI and by hosts that pass no clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to; simulations and tests drive it."""

    def __init__(self, start: datetime):
        self._now = require_aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        instant = require_aware(instant)
        if instant < self._now:
            raise ValueError(f"a simulated clock never goes back ({instant} < {self._now})")
        self._now = instant

    def advance(self, delta: timedelta) -> datetime:
        self.set(self._now + delta)
        return self._now


def require_aware(instant: datetime) -> datetime:
    """Refuse naive datetimes: every instant the engine stores is timezone-aware."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {instant.isoformat()} has no time zone offset")
    return instant


def parse_instant(text: str, tz: ZoneInfo = DEFAULT_TZ) -> datetime:
    """ISO 8601; without an offset the time is local to `tz` (Asia/Shanghai by default)."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value
