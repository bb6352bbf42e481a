"""Store queries the engine makes, with a plain fallback for a host's store that lacks the
indexed method (kept out of engine.py, which is about the units of work). The duplicate
lookup of a new case is `repeats.earlier_case`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..records.case import Case
from ..store.base import CaseQuery, ProvisionalIndex, Store
from ..store.codec import provisional_from


def provisional_cases(store: Store, process_id: str, years: Sequence[int]) -> list[str]:
    """Open cases of the process whose first provisional deadline year (`provisional_from`,
    as the stores index it) is one of `years`."""
    if isinstance(store, ProvisionalIndex):
        return store.provisional_cases(process_id, years)
    return [c.id for c in store.cases(CaseQuery(process_id)) if provisional_from(c) in years]


@runtime_checkable
class PagesDue(Protocol):
    """Optional: due, unclaimed cases read a page at a time from a key on, rows and all,
    without claiming them (`SqlStore.due_page`), and the cases of those rows."""

    def due_page(self, now: datetime, after: Any = None,
                 limit: int = 1000) -> Sequence[DuePageRow]: ...

    def cases_of(self, rows: Sequence[Any]) -> list[Case]: ...


class DuePageRow(Protocol):
    """One row of a due page: the case id and the key the next page starts at."""

    @property
    def id(self) -> str: ...
    @property
    def key(self) -> Any: ...


def due_pages(store: Store) -> PagesDue | None:
    """The store, when it pages through due cases (`PagesDue`); else None: the tick then
    claims through `due_cases`."""
    return store if isinstance(store, PagesDue) else None
