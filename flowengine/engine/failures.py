"""Per-case failures of `tick` and `reconcile`: one case never stops the others.

Why: a case whose timers cannot be planned (an expression that cannot be evaluated, a
deadline reaching a year no calendar covers, a definition version missing from the store)
used to make every `tick` raise, so no other case's deadline fired until someone fixed it
by hand. Now the failure is kept against that case, the case is put aside with back-off
(1, 2, 4 … minutes, at most an hour, counted per engine, so a long-running `worker` backs
off further each time), and every other due case is processed. A later success clears it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import InvalidData
from ..expr import ExprEvalError

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class TickFailure:
    """Why timers of `case_id` could not run, how often in a row, and when it is retried."""

    case_id: str
    error: str
    attempts: int
    failed_at: datetime
    retry_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "error": self.error, "attempts": self.attempts,
                "failed_at": self.failed_at.isoformat(), "retry_at": self.retry_at.isoformat()}

    def line(self) -> str:
        return (f"{self.case_id}: timers not run ({self.error}); attempt {self.attempts}, "
                f"retried from {self.retry_at.isoformat()}")


class FailureLog:
    """The failures of this engine's ticks, by case; `record` tells the store to leave the
    case aside until its retry time when the store can (`defer_case`)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.failures: dict[str, TickFailure] = {}

    def record(self, case_id: str, exc: BaseException, now: datetime) -> TickFailure:
        before = self.failures.get(case_id)
        attempts = before.attempts + 1 if before else 1
        wait = min(FIRST_RETRY * 2 ** min(attempts - 1, 10), LONGEST_RETRY)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        failure = TickFailure(case_id, f"{type(exc).__name__}: {message}", attempts, now,
                              now + wait)
        self.failures[case_id] = failure
        defer = getattr(self._store, "defer_case", None)
        if defer is not None:
            defer(case_id, failure.retry_at)
        return failure

    def waiting(self, case_id: str, now: datetime) -> bool:
        """Whether `case_id` failed and its retry time has not come."""
        failure = self.failures.get(case_id)
        return failure is not None and now < failure.retry_at

    def clear(self, case_id: str) -> None:
        self.failures.pop(case_id, None)


@contextmanager
def conditions_as_data(case_id: str, trigger: str, state: str) -> Iterator[None]:
    """At `start`/`fire`, a condition that cannot be evaluated with the given data (a
    deadline's `unless` reading a field not set yet) refuses the data like any invalid
    value, instead of escaping as an internal error."""
    try:
        yield
    except ExprEvalError as exc:
        raise InvalidData(case_id, trigger, state, "a condition of the process cannot be "
                          f"evaluated with this data: {exc}") from None


__all__ = ["FailureLog", "TickFailure", "conditions_as_data"]
