"""`audit verify`: check every case of a store, streaming, and name each broken case.

Why streaming: a registry office's database holds millions of events. `Store.all_events()`
yields them case by case and in sequence, so only the case being checked is held: its chain
cursor and its folded projection (plus one id string per case seen, to find case records
that lost every event). For each case:

- the hash chain (chain.py): sequence gap-free from 1, prev_hash links, hash recomputed;
- the fold: the events replay on the pinned definition (replay.py);
- the projection: the stored case record equals the replayed case field by field, so an
  edit of the `cases` table alone (state, data, deadlines) is caught too.

On the SQL store the events are read with their stored body text and the hash is taken
over that text (see `_sql_rows` for why that is the same check); any other store may offer
`all_events_with_hashes()` yielding `(event, sha256 of its stored canonical body)`, and
otherwise each event's body is re-serialised and hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..engine.events import Event, event_from_dict
from ..engine.registry import Registry
from ..store.base import CaseQuery, Store
from .replay import CaseFolder, PinnedDefinitions, compare, jsonable


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


def _pairs(store: Store) -> Iterator[tuple[Event, str | None]]:
    fast = getattr(store, "all_events_with_hashes", None)
    if callable(fast):
        yield from fast()
        return
    rows = _sql_rows(store)
    if rows is not None:
        yield from rows
        return
    for event in store.all_events():
        yield event, None


def _sql_rows(store: Store) -> Iterator[tuple[Event, str]] | None:
    """The SQL store's events with the SHA-256 of their stored body text.

    Why this is the same check as `chain_hash(event.body())`: the store writes
    `body = canonical(event.body())` (store/schema.py), and `chain_hash` is SHA-256 over
    exactly those UTF-8 bytes. So the stored hash matches the stored text if and only if
    the text is byte for byte what was hashed; the event folded is decoded from that same
    text. Hashing the text directly skips re-serialising every event (about a third of the
    replay cost) and also catches edits that would decode to the same values."""
    try:
        from ..store.sql import SqlStore
    except ImportError:  # pragma: no cover - the SQL store ships with flowengine
        return None
    if not isinstance(store, SqlStore):
        return None
    return _sql_stream(store)


def _sql_stream(store: Any, batch: int = 2000) -> Iterator[tuple[Event, str]]:
    from sqlalchemy import select

    from ..store.schema import events as table

    stmt = select(table.c.body, table.c.hash).order_by(table.c.case_id, table.c.seq)
    loads, sha256 = orjson.loads, hashlib.sha256
    with store.engine.connect() as conn:
        for body, stored_hash in conn.execution_options(yield_per=batch).execute(stmt):
            doc = loads(body)
            doc["hash"] = stored_hash
            yield event_from_dict(doc), sha256(body.encode("utf-8")).hexdigest()


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
    for event, content_hash in _pairs(store):
        if folder is None or event.case_id != folder.case_id:
            if folder is not None:
                found(_finish(store, folder, projections))
            folder = _start(event.case_id, definitions, seen, report)
        folder.feed(event, content_hash)
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
