"""`RowCache`: what the SQL store last read or wrote of each case, at which sequence number.

Why it exists: an append after the first changes a few of a case's columns, and an UPDATE
that SETs a column rewrites every index entry on it, changed or not (SQLite), or loses
PostgreSQL's in-place (HOT) update when an indexed column is set. Knowing the row as it is
stored at `expected_seq` lets the store SET only the columns whose values differ. After its
own write the store also keeps a copy of the case, so the engine can plan the next fire
without a SELECT (`recent_case`; a refusal or a lost race planned from it is decided again
on a fresh read, so outcomes are those of a fresh read). The held case is handed out once
(`take`), not copied again: the fire that takes it folds into it and its append holds a new
copy; a second caller before that append finds none and reads the case.

When an entry goes: a failed or uncertain write forgets the cases it touched (`forget`),
and `append_many` forgets the cases it wrote once their rows have served its statements
(a tick's cases, seldom fired next: kept by the thousand, they pushed out the entries of
the cases being fired and held the tick's memory until it returned); an entry is kept
only under the sequence number it was seen at, and is used only when the append expects
exactly that number (another writer's append makes it stale, which only
costs a full SET list, never a wrong row); nothing read or written inside a host's
transaction is kept (it may still roll back); and the cache holds at most `limit` cases,
dropping the oldest first (an eighth of them at once).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from ..records.case import Case

Row = dict[str, Any]  # a `cases` row by column name, instants in the database's form


class RowCache:
    """Rows (and cases) last seen per case id; thread-safe for the store's use: entries are
    replaced whole, and a lost eviction race only leaves one entry more."""

    def __init__(self, changing: tuple[str, ...], *, limit: int,
                 joined: Callable[[], bool]) -> None:
        """`changing`: the columns an append may SET, the last one always (it releases a
        claim); `joined`: whether the caller runs in a host's transaction (nothing kept)."""
        self._all = changing
        self._compared = changing[:-1]
        self._always = changing[-1]
        self._limit = limit
        self._joined = joined
        self._seen: dict[str, tuple[int, Row]] = {}
        # the cases apart from their rows: `take` pops one, atomically, so two threads
        # firing the same case never both get the same object to fold into
        self._cases: dict[str, Case] = {}

    def remember(self, case_id: str, seq: int, row: Row, case: Case | None = None) -> None:
        """Keep `row` as the case's stored row at `seq` (and `case`, which the cache then
        owns: pass a copy nobody else holds)."""
        seen, cases = self._seen, self._cases
        seen.pop(case_id, None)
        cases.pop(case_id, None)
        if self._joined():
            return
        seen[case_id] = (seq, row)
        if case is not None:
            cases[case_id] = case
        if len(seen) > self._limit:
            # the oldest eighth at once: a dict keeps the slots of the entries taken from
            # its front until it is resized, and each `next(iter(...))` walked past all of
            # them (one entry at a time, a tick of 10,000 cases paid it per case)
            try:  # another thread may be changing the dict meanwhile
                oldest = list(islice(seen, len(seen) - self._limit + self._limit // 8))
            except RuntimeError:
                return
            for key in oldest:
                seen.pop(key, None)
                cases.pop(key, None)

    def forget(self, case_id: str) -> None:
        """Drop what is held of the case (its stored row may now be other than we think)."""
        self._seen.pop(case_id, None)
        self._cases.pop(case_id, None)

    def take(self, case_id: str) -> Case | None:
        """The case the store last wrote, if it is still held; handed out once: the caller
        owns it and the cache no longer holds it (the row stays)."""
        return self._cases.pop(case_id, None)

    def row(self, case_id: str, seq: int) -> Row | None:
        """The case's stored row at `seq`, if that is the one held (read-only)."""
        seen = self._seen.get(case_id)
        return seen[1] if seen is not None and seen[0] == seq else None

    def changed(self, row: Row, expected_seq: int) -> tuple[str, ...]:
        """The columns of `row` to SET for an append expecting `expected_seq`: those that
        differ from the row held at that number, plus the always-set one; every changing
        column when nothing is held at that number."""
        seen = self._seen.get(row["id"])
        if seen is None or seen[0] != expected_seq:
            return self._all
        old = seen[1]
        return (*[k for k in self._compared if row[k] != old[k]], self._always)

    def __len__(self) -> int:
        return len(self._seen)
