"""The earlier case of a repeated petition (重信重访), found when a case starts.

Why here and not in the store: the store only answers "which case has these key values"
(open ones through the `dup_key` index, finished ones within a look-back); what counts as
a repeat and what a repeat is flagged with are the process's words (`duplicate_key`,
`duplicate_lookback`, `duplicate_flag`), so a repeat of a matter whose 复核 is final can
be flagged and refused without any petition rule in the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..definition.model import Duration
from ..store.base import Store
from .compiler import CompiledProcess
from .data import DataError, coerce_all


def earlier_case(store: Store, cp: CompiledProcess, data: Mapping[str, Any],
                 at: datetime) -> tuple[str | None, dict[str, Any]]:
    """(the earlier case's id or None, the flag data the new case records)."""
    p = cp.process
    if not p.duplicate_key or any(data.get(k) in (None, "") for k in p.duplicate_key):
        return None, {}
    try:
        key = coerce_all(p.fields, {k: data[k] for k in p.duplicate_key})
    except DataError:
        return None, {}  # plan_start reports the bad value
    found = store.find_open_duplicate(p.id, key)
    if found is None and p.duplicate_lookback is not None:
        found = store.find_finished_duplicate(p.id, key, _since(cp, p.duplicate_lookback, at))
    flag = p.duplicate_flag
    earlier = store.load_case(found) if found is not None and flag is not None else None
    if flag is None or earlier is None:
        return found, {}
    from .planner import case_env  # the planner imports the modules this one needs

    env = case_env(cp, earlier.state, earlier.data, None, at)
    return found, ({flag.field: True} if cp.expr(flag.when).evaluate(env) else {})


def _since(cp: CompiledProcess, span: Duration, at: datetime) -> datetime:
    """`at` minus the look-back; working days are counted back on the process calendar."""
    if span.unit != "working_days":
        return at - timedelta(**{span.unit: span.amount})
    day, left = at.astimezone(cp.tz).date(), span.amount
    while left > 0:
        day -= timedelta(days=1)
        left -= cp.calendar.is_workday(day)
    return datetime.combine(day, at.astimezone(cp.tz).timetz())
