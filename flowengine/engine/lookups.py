"""Store queries the engine makes, with a plain fallback for a host's store that lacks the
indexed method (kept out of engine.py, which is about the units of work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..store.base import CaseQuery, Store
from .compiler import CompiledProcess
from .data import DataError, coerce_all


def open_duplicate(store: Store, cp: CompiledProcess, data: Mapping[str, Any]) -> str | None:
    """The open case a new case of `cp` with `data` duplicates (`duplicate_key`), if any."""
    keys = cp.process.duplicate_key
    if not keys or any(data.get(k) in (None, "") for k in keys):
        return None
    try:
        key = coerce_all(cp.process.fields, {k: data[k] for k in keys})
    except DataError:
        return None  # plan_start reports the bad value
    return store.find_open_duplicate(cp.process.id, key)


def provisional_cases(store: Store, process_id: str, years: Sequence[int]) -> list[str]:
    """Open cases of the process with a deadline counted over one of the provisional `years`."""
    find = getattr(store, "provisional_cases", None)
    if find is not None:
        found: list[str] = find(process_id, years)
        return found
    return [c.id for c in store.cases(CaseQuery(process_id))
            if any(d.provisional and d.active and min(d.provisional) in years
                   for d in c.deadlines.values())]
