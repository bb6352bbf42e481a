"""Which cases a report counts, and as they stood when.

`--from/--to` select cases by the local date they were *received* (their `started`
event, in the process's time zone); `--as-of` says at which instant they are looked at.
Without `--as-of` the stored projections are read (the state after the last event and
the last `tick`); with it every case is rebuilt from its events up to that instant with
`engine.fold.apply`, the same function the engine and replay use, so a figure as of an
instant is what the engine itself would have shown then.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ...definition.model import ProcessDef
from ...engine.case import Case
from ...engine.fold import apply, new_case
from ...errors import ChainBroken
from ...store.base import CaseQuery, Store
from ..replay import PinnedDefinitions
from ..rows import Unreadable, stored_events


def start_date(process: ProcessDef, case: Case) -> date | None:
    """The local date the case was received."""
    if case.created_at is None:
        return None
    return case.created_at.astimezone(ZoneInfo(process.timezone)).date()


def cases_as_of(store: Store, definitions: PinnedDefinitions, as_of: datetime,
                process_id: str | None = None) -> Iterator[Case]:
    """Every case started at or before `as_of`, folded from its events up to that instant
    (streamed: one case in memory at a time)."""
    case: Case | None = None
    process: ProcessDef | None = None
    for row in stored_events(store):
        if isinstance(row, Unreadable):
            raise ChainBroken(row.case_id, row.seq, row.why)
        event = row[0]
        if case is not None and event.case_id != case.id:
            yield case
            case = None
        if event.at > as_of or (process_id is not None and event.process_id != process_id):
            continue
        if event.type == "started":
            process = definitions.get(event.digest, event.case_id)
            case = new_case(process, event)
        if case is not None and process is not None:
            apply(process, case, event)
    if case is not None:
        yield case


def selected(cases: Iterable[Case], definitions: PinnedDefinitions, start: date | None,
             end: date | None) -> Iterator[tuple[ProcessDef, Case, date]]:
    """The cases received between `start` and `end` (inclusive local dates), each with its
    pinned definition and its start date."""
    for case in cases:
        process = definitions.get(case.digest, case.id)
        day = start_date(process, case)
        if day is None or (start and day < start) or (end and day > end):
            continue
        yield process, case, day


def source_cases(store: Store, definitions: PinnedDefinitions, process_id: str | None,
                 as_of: datetime | None) -> Iterable[Case]:
    """The stored projections, or (with `as_of`) the cases rebuilt as of that instant."""
    if as_of is None:
        return store.cases(CaseQuery(process_id=process_id))
    return cases_as_of(store, definitions, as_of, process_id)


__all__ = ["cases_as_of", "selected", "source_cases", "start_date"]
