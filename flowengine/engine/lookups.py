"""Store queries the engine makes, with a plain fallback for a host's store that lacks the
indexed method (kept out of engine.py, which is about the units of work). The duplicate
lookup of a new case is `repeats.earlier_case`."""

from __future__ import annotations

from collections.abc import Sequence

from ..store.base import CaseQuery, ProvisionalIndex, Store
from ..store.codec import provisional_from


def provisional_cases(store: Store, process_id: str, years: Sequence[int]) -> list[str]:
    """Open cases of the process whose first provisional deadline year (`provisional_from`,
    as the stores index it) is one of `years`."""
    if isinstance(store, ProvisionalIndex):
        return store.provisional_cases(process_id, years)
    return [c.id for c in store.cases(CaseQuery(process_id)) if provisional_from(c) in years]
