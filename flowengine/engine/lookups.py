"""Store queries the engine makes, with a plain fallback for a host's store that lacks the
indexed method (kept out of engine.py, which is about the units of work). The duplicate
lookup of a new case is `repeats.earlier_case`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..store.base import CaseQuery, ProvisionalIndex, Store
from ..store.codec import provisional_from


def provisional_cases(store: Store, process_id: str, years: Sequence[int]) -> list[str]:
    """Open cases of the process whose first provisional deadline year (`provisional_from`,
    as the stores index it) is one of `years`."""
    if isinstance(store, ProvisionalIndex):
        return store.provisional_cases(process_id, years)
    return [c.id for c in store.cases(CaseQuery(process_id)) if provisional_from(c) in years]


DuePage = Callable[[datetime, "tuple[datetime, str] | None"], list[tuple[str, datetime]]]


@runtime_checkable
class PagesDue(Protocol):
    """Optional: due, unclaimed cases read a page at a time after a key, without claiming
    them (`SqlStore.due_page`)."""

    def due_page(self, now: datetime, after: tuple[datetime, str] | None = None,
                 limit: int = 1000) -> list[tuple[str, datetime]]: ...


def due_pages(store: Store) -> DuePage | None:
    """The store's `due_page`, or None: the tick then claims through `due_cases`."""
    return store.due_page if isinstance(store, PagesDue) else None
