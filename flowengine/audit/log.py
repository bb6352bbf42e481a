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

from ..store.base import TransparencyLog
from ..store.codec import instant_from_db
from .merkle import leaf_hash


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


def log_of(store: Any) -> TransparencyLog:
    """The store's log; ValueError when it keeps none (the memory store)."""
    if not isinstance(store, TransparencyLog):
        raise ValueError("the transparency log needs the SQL store (a database URL)")
    return store


def sequence(store: Any) -> int:
    """Give log indices to the events that have none (in id order); the log's size."""
    return log_of(store).sequence_log()


def leaves(store: Any, below: int | None = None) -> Iterator[Leaf | str]:
    """The sequenced events in log order (those with index < `below`, if given), streamed.
    A row that cannot be a leaf (a garbage column) comes as a string saying why."""
    for index, case_id, seq, recorded, hash_ in log_of(store).log_rows(below):
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


__all__ = ["Leaf", "leaves", "log_of", "sequence"]
