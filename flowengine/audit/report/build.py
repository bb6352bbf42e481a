"""A report: the KPIs of each process and the `--by` tables, over the selected cases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ...engine.registry import Registry
from ...records.case import Case
from ...store.base import Store
from ..recorded import DEFAULT_TOLERANCE, backdated_events
from ..replay import PinnedDefinitions
from .appendix import CaseLine, case_line
from .dimensions import Tally, UnknownDimension, available, dimensions
from .kpis import ProcessFigures
from .select import PERIOD_BASES, period_days, selected, source_cases

LANGS = ("zh", "en")


@dataclass
class Report:
    start: date | None
    end: date | None
    as_of: datetime | None = None
    by: tuple[str, ...] = ()
    lang: str = "zh"
    period_by: str = "received"
    processes: dict[str, ProcessFigures] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)
    process_of: dict[str, str] = field(default_factory=dict)  # selected case id -> process
    appendix: list[CaseLine] | None = None  # `--cases`: every selected case

    @property
    def cases(self) -> int:
        return sum(p.counts["cases"] for p in self.processes.values())

    def tables(self) -> list[dict[str, Any]]:
        return [t.as_dict(self.lang) for _, t in sorted(self.tallies.items())]

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"from": self.start.isoformat() if self.start else None,
               "to": self.end.isoformat() if self.end else None, "period_by": self.period_by,
               "as_of": self.as_of.isoformat() if self.as_of else None, "cases": self.cases,
               "by_process": {k: v.as_dict(self.lang)
                                         for k, v in sorted(self.processes.items())}}
        if self.by:
            doc["by"] = list(self.by)
            doc["tables"] = self.tables()
        if self.appendix is not None:
            doc["appendix"] = [line.as_dict() for line in self.appendix]
        return doc


def build_report(cases: Iterable[Case], definitions: PinnedDefinitions,
                 start: date | None = None, end: date | None = None,
                 on_time_deadlines: Iterable[str] = (), *, as_of: datetime | None = None,
                 by: Sequence[str] = (), lang: str = "zh",
                 days: Mapping[str, Collection[date]] | None = None,
                 period_by: str = "received",
                 closed_days: Mapping[str, Collection[date]] | None = None) -> Report:
    """The figures over `cases` received between `start` and `end` (inclusive, local
    dates), or with one of their `days` (`period_days` under `period_by`) in it, as they
    stand in `cases` (rebuilt as of `as_of` by the caller, if given).
    `on_time_deadlines`: 按期办结率 over these deadlines instead of the declared ones;
    `by`: one or two dimensions to count by (`UnknownDimension` if none fits);
    `closed_days` (`period_days(…, "closed")`): list every case in `Report.appendix`."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use zh or en")
    override = tuple(on_time_deadlines)
    report = Report(start, end, as_of, tuple(by), lang, period_by)
    if closed_days is not None:
        report.appendix = []
    for process, case, day in selected(cases, definitions, start, end, days):
        figures = report.processes.get(process.id)
        if figures is None:  # figures are by process id, over every version of it
            figures = report.processes[process.id] = ProcessFigures(process, override, as_of)
            dims = dimensions(by, process) if by else None
            if dims is not None:
                report.tallies[process.id] = Tally(dims)
        figures.add(case, day)
        report.process_of[case.id] = process.id
        tally = report.tallies.get(process.id)
        if tally is not None:
            tally.add(case, day)
        if report.appendix is not None and closed_days is not None:
            report.appendix.append(case_line(process, case, day,
                                             sorted(closed_days.get(case.id, ())), as_of))
    if report.appendix is not None:
        report.appendix.sort(key=lambda c: (c.process, c.received, c.id))
    if by and report.processes and not report.tallies:
        raise UnknownDimension(_unknown(by, report))
    return report


def _unknown(by: Sequence[str], report: Report) -> str:
    options = sorted({name for f in report.processes.values() for name in available(f.process)})
    return (f"cannot count by {' and '.join(by)}: no selected process has "
            f"{'that' if len(by) == 1 else 'all of those'} (--by takes year, month, state, an "
            f"enum or boolean field, or DATEFIELD.year / DATEFIELD.month); "
            f"here: {', '.join(options)}")


def report(store: Store, registry: Registry | None = None, *, process_id: str | None = None,
           start: date | None = None, end: date | None = None,
           on_time_deadlines: Iterable[str] = (), as_of: datetime | None = None,
           by: Sequence[str] = (), lang: str = "zh",
           tolerance: timedelta = DEFAULT_TOLERANCE, period_by: str = "received",
           cases: bool = False) -> Report:
    """KPIs (and `by` tables) over the cases of `store` received (or, by `period_by`,
    closed, or with an event) between `start` and `end`, as they stood at `as_of`
    (default: as stored now); backdated events counted with `tolerance`; `cases`: with
    the per-case appendix."""
    if period_by not in PERIOD_BASES:
        raise ValueError(f"unknown period basis {period_by!r}; use {', '.join(PERIOD_BASES)}")
    definitions = PinnedDefinitions(store, registry)
    days = None if period_by == "received" else period_days(store, definitions, period_by,
                                                             as_of, process_id)
    closed = None
    if cases:
        closed = days if period_by == "closed" else period_days(store, definitions, "closed",
                                                                 as_of, process_id)
    rep = build_report(source_cases(store, definitions, process_id, as_of), definitions,
                       start, end, on_time_deadlines, as_of=as_of, by=by, lang=lang, days=days,
                       period_by=period_by, closed_days=closed)
    count_backdated(rep, store, tolerance)
    return rep


def count_backdated(rep: Report, store: Store, tolerance: timedelta) -> None:
    """Count the backdated events (recorded.py) of the selected cases, by process; with
    `as_of`, only events claimed at or before it (those the figures were folded from)."""
    per_case: Counter[str] = Counter()
    for b in backdated_events(store, tolerance, rep.process_of):
        if rep.as_of is None or b.at <= rep.as_of:
            per_case[b.case_id] += 1
    for case_id, n in per_case.items():
        counts = rep.processes[rep.process_of[case_id]].counts
        counts["backdated_cases"] += 1
        counts["backdated_events"] += n


__all__ = ["LANGS", "Report", "build_report", "report"]
