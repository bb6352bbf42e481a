"""`audit verify`: check every case of a store, streaming, and name each broken case.

Why streaming: a registry office's database holds millions of events. The events are read
case by case and in sequence, so only the cases being checked are held: a chain cursor and
a folded projection each, for at most a batch of cases whose stored records are then read
with one query. For each case:

- the hash chain (chain.py): sequence gap-free from 1, prev_hash links, hash recomputed;
- the fold: the events replay on the pinned definition (replay.py);
- the projection: the stored case record equals the replayed case field by field, so an
  edit of the `cases` table alone (state, data, deadlines) is caught too;
- the definitions: every stored definition text hashes to its digest (definitions.py); a
  case pinned to a missing or changed text is broken at its first event;
- completeness: case records without any event (on the SQL store the database finds them
  with an anti-join; other stores are in memory and list their cases).

Events are read through `rows.stored_events`: on the SQL store with the hash of their
stored body text, and a row that does not even decode is reported, not a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.registry import Registry
from ..records.case import Case
from ..records.lifecycle import VerifyKind
from ..store.base import CaseQuery, Store
from .definitions import DefinitionProblem, stored_definition_problems
from .derived import derived_mismatches
from .outbox_check import OutboxEntry, load_outbox, outbox_problem
from .records import BadRecord, Record
from .replay import CaseFolder, PinnedDefinitions, compare, jsonable
from .rows import Unreadable, cases_without_events, load_cases, stored_events


@dataclass(frozen=True)
class CaseProblem:
    """One broken case: the event (sequence number) where it breaks, and why."""

    case_id: str
    seq: int
    why: str
    kind: VerifyKind

    def __str__(self) -> str:
        return f"case {self.case_id}: event {self.seq}: {self.why}"

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "why": self.why, "kind": self.kind}


@dataclass
class VerifyReport:
    cases: int = 0
    events: int = 0
    problems: list[CaseProblem] = field(default_factory=list)
    # stored definition texts that are not the version their digest names
    definitions: list[DefinitionProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.definitions

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events,
                "broken": [p.as_dict() for p in self.problems],
                "broken_definitions": [d.as_dict() for d in self.definitions]}


Listener = Callable[[CaseProblem], None]


def replay_all(store: Store, registry: Registry | None = None, *,
               redecide: bool = True) -> VerifyReport:
    """Rebuild every case from its events and verify its chain, without reading the stored
    projections (what `bench/bench_replay.py` measures as replay). `redecide=False` leaves
    out planning each event again (see `verify_store`): the state and the chain only."""
    return verify_store(store, registry, projections=False, redecide=redecide)


def verify_store(store: Store, registry: Registry | None = None, *,
                 on_problem: Listener | None = None, projections: bool = True,
                 redecide: bool = True) -> VerifyReport:
    """Check every case; `on_problem` is told of each broken case as soon as it is found.
    `projections`: also compare each stored case record with its replay. `redecide`: plan
    every event again on the case as it stood before and require the same event (catches a
    forged transition with a valid recomputed chain); by far the largest part of the cost,
    so an embedder that only rebuilds state may turn it off. The CLI always re-decides."""
    return _Verifier(store, registry, on_problem, projections, redecide).run()


class _Verifier:
    """One pass over the events. Replayed cases wait in batches of `BATCH` so their stored
    records are read with one query per batch (bounded memory, few round trips)."""

    BATCH = 500

    def __init__(self, store: Store, registry: Registry | None, on_problem: Listener | None,
                 projections: bool, redecide: bool = True) -> None:
        self.store = store
        self.redecide = redecide
        self.definitions = PinnedDefinitions(store, registry)
        self.on_problem = on_problem
        self.projections = projections
        self.report = VerifyReport()
        self.pending: list[CaseFolder] = []
        self.orphans = cases_without_events(store) if projections else None
        # Without the database's help, remember every id (to find records without events).
        self.seen: set[str] | None = set() if self.orphans is None else None

    def run(self) -> VerifyReport:
        if self.projections:  # every stored text, also of versions no case uses any more
            self.report.definitions = list(stored_definition_problems(self.store))
        folder: CaseFolder | None = None
        for row in stored_events(self.store):
            case_id = row.case_id if isinstance(row, Unreadable) else row[0].case_id
            if folder is None or case_id != folder.case_id:
                if folder is not None:
                    self._done(folder)
                folder = self._start(case_id)
            folder.feed_row(row)
            self.report.events += 1
        if folder is not None:
            self._done(folder)
        self._flush()
        for problem in self._records_without_events():
            self._found(problem)
        return self.report

    def _found(self, problem: CaseProblem | None) -> None:
        if problem is not None:
            self.report.problems.append(problem)
            if self.on_problem is not None:
                self.on_problem(problem)

    def _start(self, case_id: str) -> CaseFolder:
        if self.seen is not None:
            if case_id in self.seen:  # a store that does not group events by case
                self._found(CaseProblem(case_id, 0, "the case's events are not stored "
                                        "together; the store's all_events() is broken",
                                        "chain"))
            self.seen.add(case_id)
        self.report.cases += 1
        return CaseFolder(case_id, self.definitions, redecide=self.redecide)

    def _done(self, folder: CaseFolder) -> None:
        if not self.projections:
            self._found(_judge(folder, None, False))
            return
        self.pending.append(folder)
        if len(self.pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        columns: dict[str, dict[str, Any]] = {}
        ids = [f.case_id for f in self.pending]
        stored = load_cases(self.store, ids, columns)
        outbox = load_outbox(self.store, ids)
        for folder in self.pending:
            problem = _judge(folder, stored.get(folder.case_id), True,
                             columns.get(folder.case_id))
            self._found(problem or _outbox(folder, outbox.get(folder.case_id, [])))
        self.pending.clear()

    def _records_without_events(self) -> Iterable[CaseProblem]:
        if not self.projections:
            return
        if self.orphans is not None:
            ids: Iterable[str] = self.orphans
        else:
            seen = self.seen or set()
            ids = (c.id for c in self.store.cases(CaseQuery()) if c.id not in seen)
        for case_id in ids:
            yield CaseProblem(case_id, 1, "the case record has no events (its history was "
                              "deleted)", "missing")


def _outbox(folder: CaseFolder, rows: list[OutboxEntry]) -> CaseProblem | None:
    found = outbox_problem(folder.notified, rows)
    return CaseProblem(folder.case_id, found[0], found[1], "outbox") if found else None


def _judge(folder: CaseFolder, stored: Record | None, projections: bool,
           columns: Mapping[str, Any] | None = None) -> CaseProblem | None:
    """The problem of one replayed case, if any: its chain first, then its record (with
    the columns its events determine, `derived.py`, when the raw row is at hand)."""
    fault = folder.fault(stored.seq if isinstance(stored, Case) else None)
    if fault is not None:
        return CaseProblem(fault.case_id, fault.seq, fault.why, "chain")
    if not projections:
        return None
    replayed = folder.case
    assert replayed is not None  # no fault means the start event folded
    if isinstance(stored, BadRecord):
        return CaseProblem(folder.case_id, replayed.seq, stored.why, "projection")
    if stored is None:
        return CaseProblem(folder.case_id, replayed.seq, "the case has events but no case "
                           "record", "projection")
    mismatches = compare(stored, replayed)
    if columns is not None and folder.process is not None:
        mismatches += derived_mismatches(replayed, folder.process, columns)
    if not mismatches:
        return None
    shown = "; ".join(f"{m.field}: stored {jsonable(m.stored)!r}, replayed "
                      f"{jsonable(m.replayed)!r}" for m in mismatches[:3])
    more = f" (and {len(mismatches) - 3} more)" if len(mismatches) > 3 else ""
    return CaseProblem(folder.case_id, replayed.seq,
                       f"the stored case record differs from its replay: {shown}{more}",
                       "projection")


__all__ = ["CaseProblem", "VerifyReport", "replay_all", "verify_store"]
