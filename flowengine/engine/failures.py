"""Per-case failures of `tick` and `reconcile`: one case never stops the others.

Why: a case whose timers cannot be planned (an expression that cannot be evaluated, a
deadline reaching a year no calendar covers, a definition version missing from the store)
used to make every `tick` raise, so no other case's deadline fired until someone fixed it
by hand. Now the failure is kept against that case in the store's failure book
(store/failures.py: the `case_failures` table of the SQL store), the case is put aside
with back-off (1, 2, 4 … minutes, at most an hour), and every other due case is processed.
The attempts are counted in the book, so the back-off goes on across separate `tick` runs
and worker processes. A later success clears the failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import InvalidData
from ..store.base import DefersCases, KeepsFailures
from ..store.errors import StoreError
from ..store.failures import CaseFailure, FailureBook, MemoryFailures

if TYPE_CHECKING:  # the expression language is loaded by whatever raised the error
    from ..expr import ExprEvalError

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)

TickFailure = CaseFailure  # the name this record had before it was kept by the store


def retry_wait(attempts: int) -> timedelta:
    """The back-off after the `attempts`-th failure in a row."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 10)), LONGEST_RETRY)


class FailureLog:
    """This engine's view of the failure book. `failures` holds the failures this engine
    recorded (a tick reports them), until the case succeeds. Within one round (a tick),
    `load` reads a group of cases' rows from the book in one query, so `record` continues
    their count and `clear` deletes only rows that exist; `new_round` forgets what was
    read, as another process may have written since. `record` also tells the store to
    leave the case aside until its retry time when it can (`defer_case`). A round that
    begins with an empty book reads it no more (a tick over thousands of due cases would
    otherwise ask it about every page of them): like what `load` read, what another
    process records meanwhile is seen from the next round on."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.book: FailureBook = (store.failure_book if isinstance(store, KeepsFailures)
                                  else MemoryFailures())
        self.failures: dict[str, CaseFailure] = {}
        self._known: dict[str, CaseFailure | None] = {}
        self._empty = False  # the book had no row when this round began

    def new_round(self) -> None:
        """A tick begins: forget what was read, and the failures of cases closed since."""
        self._known.clear()
        if self.book.clear_closed():
            self.failures.clear()  # re-read as needed; the closed ones are gone
        self._empty = not self.book.all_failures(1)

    def load(self, case_ids: Sequence[str]) -> None:
        """Read the book's rows of these cases (one query for those not read this round)."""
        known = self._known
        todo = [cid for cid in case_ids if cid not in known]
        if todo:
            found = {} if self._empty else self.book.failures_of(todo)
            known.update((cid, found.get(cid)) for cid in todo)

    def _row(self, case_id: str) -> CaseFailure | None:
        known = self._known
        if case_id not in known:
            self.load([case_id])
        return known[case_id]

    def record(self, case_id: str, exc: BaseException, now: datetime,
               operation: str = "timers") -> CaseFailure:
        before = self._row(case_id)
        attempts = before.attempts + 1 if before else 1
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        failure = CaseFailure(case_id, f"{type(exc).__name__}: {message}", attempts, now,
                              now + retry_wait(attempts), operation)
        self.failures[case_id] = self._known[case_id] = failure
        try:
            self.book.put_failure(failure)  # its own transaction: no other case waits on it
            if isinstance(self._store, DefersCases):
                self._store.defer_case(case_id, failure.retry_at)
        except StoreError:  # the database is busy or gone: the tick still goes on and
            pass  # reports the failure; only its count is not kept for the next run
        return failure

    def waiting(self, case_id: str, now: datetime) -> bool:
        """Whether `case_id` failed and its retry time has not come."""
        failure = self._row(case_id)
        return failure is not None and now < failure.retry_at

    def clear(self, case_id: str, operation: str = "timers") -> None:
        """`operation` succeeded on the case: its failure of that operation (if the book
        has one) is deleted."""
        row = self._row(case_id)
        if case_id in self.failures and self.failures[case_id].operation == operation:
            del self.failures[case_id]
        if row is not None and row.operation == operation:
            self.book.clear_failures([case_id])
            self._known[case_id] = None


def condition_failed(case_id: str, trigger: str, state: str, exc: ExprEvalError) -> InvalidData:
    """At `start`/`fire`, a condition that cannot be evaluated with the given data (a
    deadline's `unless` reading a field not set yet) refuses the data like any invalid
    value, instead of escaping as an internal error. (The engine raises it from an
    `except` clause: a context manager around each fire cost a measurable share of it.)"""
    return InvalidData(case_id, trigger, state, "a condition of the process cannot be "
                       f"evaluated with this data: {exc}")


__all__ = ["FailureLog", "TickFailure", "condition_failed", "retry_wait"]
