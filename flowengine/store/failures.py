"""Per-case failures of `tick`/`worker`/`reconcile`, kept by the store (the failure book).

Why in the store: a case whose timers cannot be run is retried with back-off, and the
back-off must go on across separate `tick` runs and across worker processes, not restart
at one minute in each; operators need to list the failing cases (`flowengine failures`)
and see the failure in `case show`. Each write is its own short transaction, apart from
any case's events, so recording a failure never rolls back or waits on other cases' work.

`MemoryFailures` is the same book in memory (the memory store's, and the engine's own
when a host's store has no `failure_book`: then the book lives as long as the engine).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, delete, insert, select

from .schema import case_failures, cases
from .translate import translated

OPERATIONS = ("timers", "reconcile")  # what failed: running due timers, or a recount


@dataclass(frozen=True)
class CaseFailure:
    """Why `operation` on `case_id` failed, how often in a row, and when it is retried."""

    case_id: str
    error: str
    attempts: int
    failed_at: datetime
    retry_at: datetime
    operation: str = "timers"

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "operation": self.operation, "error": self.error,
                "attempts": self.attempts, "failed_at": self.failed_at.isoformat(),
                "retry_at": self.retry_at.isoformat()}

    def line(self) -> str:
        what = "timers not run" if self.operation == "timers" else "calendar not recounted"
        return (f"{self.case_id}: {what} ({self.error}); attempt {self.attempts}, "
                f"retried from {self.retry_at.isoformat()}")


class FailureBook(Protocol):
    """The store capability (`store.failure_book`); optional for a host's store."""

    def failures_of(self, case_ids: Sequence[str]) -> dict[str, CaseFailure]:
        """The recorded failures of those cases (cases without one are left out)."""

    def all_failures(self, limit: int | None = None) -> list[CaseFailure]:
        """Every recorded failure, the soonest retried first."""

    def put_failure(self, failure: CaseFailure) -> None:
        """Record (or replace) the failure of its case, in a transaction of its own."""

    def clear_failures(self, case_ids: Sequence[str]) -> None:
        """Forget the failures of those cases (they succeeded)."""

    def clear_closed(self) -> int:
        """Forget the failures of cases now in a final state (a fire closed them: nothing
        is left to retry); returns how many. Cheap when there are none (a read only)."""


class MemoryFailures:
    def __init__(self, is_final: Callable[[str], bool] = lambda case_id: False) -> None:
        self._rows: dict[str, CaseFailure] = {}
        self._is_final = is_final

    def failures_of(self, case_ids: Sequence[str]) -> dict[str, CaseFailure]:
        return {cid: self._rows[cid] for cid in case_ids if cid in self._rows}

    def all_failures(self, limit: int | None = None) -> list[CaseFailure]:
        rows = sorted(self._rows.values(), key=lambda f: (f.retry_at, f.case_id))
        return rows if limit is None else rows[:limit]

    def put_failure(self, failure: CaseFailure) -> None:
        self._rows[failure.case_id] = failure

    def clear_failures(self, case_ids: Sequence[str]) -> None:
        for cid in case_ids:
            self._rows.pop(cid, None)

    def clear_closed(self) -> int:
        closed = [cid for cid in self._rows if self._is_final(cid)]
        self.clear_failures(closed)
        return len(closed)


_COLUMNS = (case_failures.c.case_id, case_failures.c.last_error, case_failures.c.attempts,
            case_failures.c.failed_at, case_failures.c.next_attempt_at,
            case_failures.c.operation)
_CHUNK = 500  # ids per IN (…) list


@translated(lambda book: book.busy_seconds)
class SqlFailures:
    """The book in the `case_failures` table (revision 0005). `writer` begins each write
    transaction (BEGIN IMMEDIATE on SQLite), `reader` serves the reads; driver errors come
    out as `StoreError`s like the store's own."""

    def __init__(self, writer: Engine, reader: Engine, busy_seconds: float | None) -> None:
        self._writer, self._reader = writer, reader
        self.busy_seconds = busy_seconds

    def failures_of(self, case_ids: Sequence[str]) -> dict[str, CaseFailure]:
        found: dict[str, CaseFailure] = {}
        with self._reader.connect() as conn:
            for i in range(0, len(case_ids), _CHUNK):
                stmt = select(*_COLUMNS).where(
                    case_failures.c.case_id.in_(list(case_ids[i:i + _CHUNK])))
                found.update((r[0], CaseFailure(*r)) for r in conn.execute(stmt))
        return found

    def all_failures(self, limit: int | None = None) -> list[CaseFailure]:
        stmt = select(*_COLUMNS).order_by(case_failures.c.next_attempt_at,
                                          case_failures.c.case_id).limit(limit)
        with self._reader.connect() as conn:
            return [CaseFailure(*r) for r in conn.execute(stmt)]

    def put_failure(self, failure: CaseFailure) -> None:
        with self._writer.begin() as conn:
            conn.execute(delete(case_failures).where(
                case_failures.c.case_id == failure.case_id))
            conn.execute(insert(case_failures).values(
                case_id=failure.case_id, operation=failure.operation,
                attempts=failure.attempts, last_error=failure.error,
                failed_at=failure.failed_at, next_attempt_at=failure.retry_at))

    def clear_failures(self, case_ids: Sequence[str]) -> None:
        if not case_ids:
            return
        with self._writer.begin() as conn:
            conn.execute(delete(case_failures).where(
                case_failures.c.case_id.in_(list(case_ids))))

    def clear_closed(self) -> int:
        closed = select(cases.c.id).where(cases.c.final, cases.c.id == case_failures.c.case_id)
        with self._reader.connect() as conn:
            if conn.execute(select(case_failures.c.case_id).where(
                    closed.exists()).limit(1)).first() is None:
                return 0
        with self._writer.begin() as conn:
            return conn.execute(delete(case_failures).where(closed.exists())).rowcount


__all__ = ["CaseFailure", "FailureBook", "MemoryFailures", "OPERATIONS", "SqlFailures"]
