"""The store-wide transparency log: every event a leaf, in log order, under one Merkle tree
(RFC 9162, merkle.py), so a signed checkpoint (checkpoint.py) catches what the per-case
chains cannot: a deleted case, a truncated case, a case rewritten with recomputed hashes.

Why a sequencer rather than the `events.id` column: on PostgreSQL ids come from a sequence
that is neither gap-free (a rolled-back append burns its ids) nor in commit order (a
transaction that took a smaller id can commit later), so a prefix of "all ids up to N"
could still grow. `sequence()` gives the next log indices to the events that have none, in
id order, under a lock; it runs when a checkpoint is taken, never in a fire, so appends
cost nothing more. A leaf is the UTF-8 text

    <case id> LF <seq> LF <recorded_at, ISO 8601 UTC with microseconds, or "-"> LF <hash>
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from ..store.connect import instant_from_db
from ..store.schema import events
from .merkle import leaf_hash

_PG_LOCK = 0x666C6F67  # "flog": pg_advisory_xact_lock key of the sequencer


@dataclass(frozen=True)
class Leaf:
    """One event as the log holds it."""

    index: int
    case_id: str
    seq: int
    recorded_at: datetime | None
    hash: str

    def data(self) -> bytes:
        recorded = (self.recorded_at.isoformat(timespec="microseconds")
                    if self.recorded_at is not None else "-")
        return f"{self.case_id}\n{self.seq}\n{recorded}\n{self.hash}".encode()

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.data())


def _engine(store: Any) -> Any:
    engine = getattr(store, "engine", None)
    if engine is None or not hasattr(engine, "connect"):
        raise ValueError("the transparency log needs the SQL store (a database URL)")
    return engine


def sequence(store: Any) -> int:
    """Give log indices to the events that have none (in id order); the log's size."""
    engine = _engine(store).execution_options(flowengine_begin="IMMEDIATE")
    with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        if pg:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        base = conn.execute(select(func.coalesce(func.max(events.c.log_index) + 1, 0))
                            .where(events.c.log_index.is_not(None))).scalar_one()
        ranked = ("SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM events "
                  "WHERE log_index IS NULL")
        conn.execute(text(f"UPDATE events SET log_index = :base + s.rn FROM ({ranked}) AS s "
                          "WHERE events.id = s.id"), {"base": int(base)})
        size = conn.execute(select(func.count()).select_from(events)
                            .where(events.c.log_index.is_not(None))).scalar_one()
    return int(size)


def leaves(store: Any, below: int | None = None, batch: int = 5000) -> Iterator[Leaf | str]:
    """The sequenced events in log order (those with index < `below`, if given), streamed.
    A row that cannot be a leaf (a garbage column) comes as a string saying why."""
    from sqlalchemy import type_coerce
    from sqlalchemy.types import NullType

    raw = [type_coerce(c, NullType()).label(c.name)
           for c in (events.c.log_index, events.c.case_id, events.c.seq,
                     events.c.recorded_at, events.c.hash)]
    stmt = select(*raw).where(events.c.log_index.is_not(None))
    if below is not None:
        stmt = stmt.where(events.c.log_index < below)
    stmt = stmt.order_by(events.c.log_index)
    with _engine(store).connect() as conn:
        for index, case_id, seq, recorded, hash_ in conn.execution_options(
                yield_per=batch).execute(stmt):
            try:
                when = instant_from_db(recorded)
            except (TypeError, ValueError, AttributeError):
                when = None
                recorded = f"unreadable {recorded!r}"
            if (type(index) is not int or type(seq) is not int or type(case_id) is not str
                    or type(hash_) is not str or (recorded is not None and when is None)):
                yield (f"the log entry {index!r} (case {case_id!r}, seq {seq!r}) is not a "
                       "readable event row")
                continue
            yield Leaf(index, case_id, seq, when, hash_)


__all__ = ["Leaf", "leaves", "sequence"]
