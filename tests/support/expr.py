"""Shared test helpers: a fixed instant, a weekends-only calendar, an actor, field names.

The real calendar package is written separately; these tests need only a calendar that
satisfies the protocol the expression functions call, so weekends are the only rest days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flowengine.expr import SimpleEnv

# 2024-03-01 is a Friday; 09:00 in Shanghai.
NOW = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)

NAMES = frozenset({
    "importance", "claim_amount", "relation", "source", "contact_unclear", "received_on",
    "resolution_team", "served_on", "replied_on", "amount", "subject", "state", "count",
})


@dataclass(frozen=True)
class Actor:
    name: str
    role: str | None


class WeekendCalendar:
    """Working days are Monday to Friday; nothing else."""

    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5

    def next_workday(self, day: date) -> date:
        """The first working day on or after `day` (as flowengine.calendar defines it)."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day`; `day` itself when n == 0."""
        for _ in range(n):
            day = self.next_workday(day + timedelta(days=1))
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; whole weeks are counted at once, so long spans are cheap."""
        weeks, rest = divmod(max((b - a).days, 0), 7)
        tail = (a + timedelta(days=7 * weeks + i) for i in range(1, rest + 1))
        return 5 * weeks + sum(1 for d in tail if self.is_workday(d))


def env(data: dict[str, Any] | None = None, **kwargs: Any) -> SimpleEnv:
    """A SimpleEnv at NOW with a weekend calendar unless told otherwise."""
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("calendar", WeekendCalendar())
    return SimpleEnv(data=data or {}, **kwargs)
