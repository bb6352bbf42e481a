"""`audit verify`: check every case of a store, streaming, and name each broken case.

Why streaming: a registry office's database holds millions of events. `Store.all_events()`
yields them case by case and in sequence, so only the case being checked is held: its chain
cursor and its folded projection (plus one id string per case seen, to find case records
that lost every event). For each case:

- the hash chain (chain.py): sequence gap-free from 1, prev_hash links, hash recomputed;
- the fold: the events replay on the pinned definition (replay.py);
- the projection: the stored case record equals the replayed case field by field, so an
  edit of the `cases` table alone (state, data, deadlines) is caught too.

Events are read through `rows.stored_events`: on the SQL store with the hash of their
stored body text, and a row that does not even decode is reported, not a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..engine.registry import Registry
from ..store.base import CaseQuery, Store
from .replay import CaseFolder, PinnedDefinitions, compare, jsonable
from .rows import Unreadable, stored_events


@dataclass(frozen=True)
class CaseProblem:
    """One broken case: the event (sequence number) where it breaks, and why."""

    case_id: str
    seq: int
    why: str
    kind: str  # chain | projection | missing

    def __str__(self) -> str:
        return f"case {self.case_id}: event {self.seq}: {self.why}"

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "why": self.why, "kind": self.kind}


@dataclass
class VerifyReport:
    cases: int = 0
    events: int = 0
    problems: list[CaseProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events,
                "broken": [p.as_dict() for p in self.problems]}


Listener = Callable[[CaseProblem], None]


def replay_all(store: Store, registry: Registry | None = None) -> VerifyReport:
    """Rebuild every case from its events and verify its chain, without reading the stored
    projections (what `bench/bench_replay.py` measures as replay)."""
    return verify_store(store, registry, projections=False)


def verify_store(store: Store, registry: Registry | None = None, *,
                 on_problem: Listener | None = None, projections: bool = True) -> VerifyReport:
    """Check every case; `on_problem` is told of each broken case as soon as it is found.
    `projections`: also compare each stored case record with its replay."""
    report = VerifyReport()
    definitions = PinnedDefinitions(store, registry)
    seen: set[str] = set()

    def found(problem: CaseProblem | None) -> None:
        if problem is not None:
            report.problems.append(problem)
            if on_problem is not None:
                on_problem(problem)

    folder: CaseFolder | None = None
    for row in stored_events(store):
        case_id = row.case_id if isinstance(row, Unreadable) else row[0].case_id
        if folder is None or case_id != folder.case_id:
            if folder is not None:
                found(_finish(store, folder, projections))
            folder = _start(case_id, definitions, seen, report)
        folder.feed_row(row)
        report.events += 1
    if folder is not None:
        found(_finish(store, folder, projections))
    for problem in _records_without_events(store, seen) if projections else ():
        found(problem)
    return report


def _start(case_id: str, definitions: PinnedDefinitions, seen: set[str],
           report: VerifyReport) -> CaseFolder:
    if case_id in seen:  # a store that does not group events by case: say so, do not guess
        report.problems.append(CaseProblem(case_id, 0, "the case's events are not stored "
                                           "together; the store's all_events() is broken",
                                           "chain"))
    seen.add(case_id)
    report.cases += 1
    return CaseFolder(case_id, definitions)


def _finish(store: Store, folder: CaseFolder, projections: bool) -> CaseProblem | None:
    stored = store.load_case(folder.case_id) if projections else None
    fault = folder.fault(stored.seq if stored is not None else None)
    if fault is not None:
        return CaseProblem(fault.case_id, fault.seq, fault.why, "chain")
    if not projections:
        return None
    replayed = folder.case
    assert replayed is not None  # no fault means the start event folded
    if stored is None:
        return CaseProblem(folder.case_id, replayed.seq, "the case has events but no case "
                           "record", "projection")
    mismatches = compare(stored, replayed)
    if not mismatches:
        return None
    shown = "; ".join(f"{m.field}: stored {jsonable(m.stored)!r}, replayed "
                      f"{jsonable(m.replayed)!r}"
                      for m in mismatches[:3])
    more = f" (and {len(mismatches) - 3} more)" if len(mismatches) > 3 else ""
    return CaseProblem(folder.case_id, replayed.seq,
                       f"the stored case record differs from its replay: {shown}{more}",
                       "projection")


def _records_without_events(store: Store, seen: set[str]) -> Iterable[CaseProblem]:
    ids = getattr(store, "case_ids", None)
    case_ids: Iterable[str] = ids() if callable(ids) else (
        c.id for c in store.cases(CaseQuery()))
    for case_id in case_ids:
        if case_id not in seen:
            yield CaseProblem(case_id, 1, "the case record has no events (its history was "
                              "deleted)", "missing")


__all__ = ["CaseProblem", "VerifyReport", "replay_all", "verify_store"]
