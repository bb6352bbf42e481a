"""Which cases a report counts, and as they stood when.

`--from/--to` select cases by a local date (in the process's time zone) chosen by
`--period-by`: the date they were *received* (their `started` event; the default), a date
they were *closed* (an event that took them into a closing state), or any date they were
worked on (an *event* starting the case or firing a trigger; timers and recounts are
not). `--as-of` says at which instant they are looked at; the dates are read from the
events up to that instant.
Without `--as-of` the stored projections are read (the state after the last event and
the last `tick`); with it every case is rebuilt from its events up to that instant with
`engine.fold.apply`, the same function the engine and replay use, so a figure as of an
instant is what the engine itself would have shown then.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ...definition.model import ProcessDef
from ...engine.fold import apply, new_case
from ...errors import ChainBroken
from ...records.case import Case
from ...store.base import CaseQuery, Store
from ..replay import PinnedDefinitions
from ..rows import Unreadable, stored_events
from .kpis import closing_states

PERIOD_BASES = ("received", "closed", "event")


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


def period_days(store: Store, definitions: PinnedDefinitions, basis: str,
                as_of: datetime | None = None,
                process_id: str | None = None) -> dict[str, frozenset[date]]:
    """Case id -> the local dates on which the case counts for a period under `basis`
    (`closed`: the days an event took it into a closing state from another state;
    `event`: the days someone started it or fired a trigger on it: a timer coming due or a
    calendar recount is not work done on the case), from its events up to `as_of`."""
    if basis not in PERIOD_BASES[1:]:
        raise ValueError(f"unknown period basis {basis!r}; use one of {', '.join(PERIOD_BASES)}")
    days: dict[str, set[date]] = {}
    for row in stored_events(store):
        if isinstance(row, Unreadable):
            raise ChainBroken(row.case_id, row.seq, row.why)
        e = row[0]
        if (as_of is not None and e.at > as_of) or (process_id and e.process_id != process_id):
            continue
        process = definitions.get(e.digest, e.case_id)
        if basis == "closed":
            closing = closing_states(process)
            if e.dest not in closing or e.source in closing:
                continue
        elif e.type not in ("started", "fired"):
            continue
        days.setdefault(e.case_id, set()).add(e.at.astimezone(ZoneInfo(process.timezone)).date())
    return {k: frozenset(v) for k, v in days.items()}


def selected(cases: Iterable[Case], definitions: PinnedDefinitions, start: date | None,
             end: date | None, days: Mapping[str, Collection[date]] | None = None,
             ) -> Iterator[tuple[ProcessDef, Case, date]]:
    """The cases received between `start` and `end` (inclusive local dates), or, given
    `days` (`period_days`), those with one of their days in it; each with its pinned
    definition and its start date."""
    for case in cases:
        process = definitions.get(case.digest, case.id)
        day = start_date(process, case)
        if day is None:
            continue
        candidates = (day,) if days is None else days.get(case.id, ())
        if any((not start or start <= d) and (not end or d <= end) for d in candidates):
            yield process, case, day


def source_cases(store: Store, definitions: PinnedDefinitions, process_id: str | None,
                 as_of: datetime | None) -> Iterable[Case]:
    """The stored projections, or (with `as_of`) the cases rebuilt as of that instant."""
    if as_of is None:
        return store.cases(CaseQuery(process_id=process_id))
    return cases_as_of(store, definitions, as_of, process_id)


__all__ = ["PERIOD_BASES", "cases_as_of", "period_days", "selected", "source_cases",
           "start_date"]
