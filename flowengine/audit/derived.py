"""The `cases` columns a case's events determine beyond the case itself: the flags
(overdue, late, final), the duplicate key, the next timer instant and the first
provisional year. Queries and the timer loop read these columns, not the events, so an
edit of one of them alone (a `next_timer_at` set to NULL: a deadline that never fires; a
`final` set: a case gone from every open list) changes what the engine does while the
case itself still replays clean. `audit verify` computes each from the replayed case the
way the store writes it (`codec.case_values`) and compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..definition.model import ProcessDef
from ..records.case import Case
from ..store.codec import case_values, instant_from_db
from .replay import Mismatch

DERIVED = ("overdue", "late", "final", "dup_key", "next_timer_at", "provisional_from")


def derived_mismatches(replayed: Case, process: ProcessDef,
                       stored: Mapping[str, Any]) -> list[Mismatch]:
    """Each derived column whose stored raw value is not what the replay gives."""
    expected = case_values(replayed, replayed.state in process.final_states,
                           process.duplicate_key)
    out = []
    for name in DERIVED:
        value = _normal(name, stored.get(name))
        if value != expected[name]:
            out.append(Mismatch(name, value, expected[name]))
    return out


def _normal(name: str, raw: Any) -> Any:
    if name in ("overdue", "late", "final"):
        return bool(raw)
    if name == "next_timer_at":
        return instant_from_db(raw)
    return raw


__all__ = ["DERIVED", "derived_mismatches"]
