"""`flowengine report`: the figures a petition office or a hospital's complaints department
reports upward, computed from the case records (the projections of their events).

Definitions (docs/audit.md has the long form; domain.md glossary for the Chinese terms):

- a case is *received* when it was started in the period (`--from/--to` on the local date
  of its start); *first-time* (初信初访) when it is not flagged as a duplicate (重信重访);
- *closed* (结案/办结): it is in one of the process's closing states: `closed`, `resolved`
  or `archived` when the process has them, else any final state;
- *accepted* (受理): it has left its initial state and did not end in a final state that is
  not a closing state (so `redirected` cases, and cases still being registered, are not);
- 结案率 closure rate = closed ÷ accepted; where the process has a boolean `filed` field
  (立案), also closed-and-filed ÷ filed, the official 立案口径;
- 立案率 filing rate = filed ÷ first-time cases received;
- 按期办结率 on-time rate = cases with at least one finished deadline (met or expired)
  none of whose deadlines was late (met late, expired, overdue now) ÷ cases with at least
  one finished deadline; `--deadline handling` restricts it to the named deadlines (an
  office reporting 办结 within 60 days names `handling`), and every deadline also gets its
  own rate, met on time ÷ finished;
- 满意率 satisfaction = `petitioner_opinion` satisfied ÷ rated (satisfied + unsatisfied;
  `no_response` is not a rating), where the process has that field.

A case record keeps the latest round of each deadline, so the deadline figures count each
case's latest round. Every rate carries its numerator, denominator and basis, so a reader
can recompute it on another basis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from ..definition.model import ProcessDef
from ..engine.case import Case
from ..engine.registry import Registry
from ..store.base import CaseQuery, Store
from .replay import PinnedDefinitions

CLOSING_STATES = frozenset({"closed", "resolved", "archived"})
BREAKDOWN_FIELDS = ("category", "department_kind", "cause")  # hospital complaint statistics
UNSET = "(unset)"


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int
    basis: str

    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "numerator": self.numerator,
                "denominator": self.denominator, "basis": self.basis}

    def __str__(self) -> str:
        shown = "n/a" if self.value is None else f"{self.value:.1%}"
        return f"{shown} ({self.numerator}/{self.denominator}, of {self.basis})"


def closing_states(process: ProcessDef) -> frozenset[str]:
    named = CLOSING_STATES & set(process.states)
    return frozenset(named) if named else process.final_states


def is_closed(process: ProcessDef, case: Case) -> bool:
    return case.state in closing_states(process)


def is_accepted(process: ProcessDef, case: Case) -> bool:
    if case.state == process.initial_state:
        return False
    return case.state not in process.final_states or is_closed(process, case)


def _deadline_flags(case: Case, names: frozenset[str]) -> tuple[bool, bool]:
    """(some deadline finished, some deadline was late), over the deadlines named in
    `names` (every deadline when empty)."""
    chosen = [d for d in case.deadlines.values() if not names or d.name in names]
    finished = any(d.status in ("met", "expired") for d in chosen)
    late = any(d.late or d.status in ("overdue", "expired") for d in chosen)
    return finished, late


@dataclass
class ProcessFigures:
    """The figures of one process over the selected cases."""

    process: ProcessDef
    on_time_deadlines: frozenset[str] = frozenset()  # 按期办结率 over these (empty: all)
    cases: int = 0
    by_state: Counter[str] = field(default_factory=Counter)
    first_time: int = 0
    duplicates: int = 0
    accepted: int = 0
    closed: int = 0
    filed: int = 0
    filed_closed: int = 0
    finished_deadline: int = 0
    on_time: int = 0
    satisfied: int = 0
    unsatisfied: int = 0
    no_response: int = 0
    overdue_now: int = 0
    extended_cases: int = 0
    extensions: int = 0
    deadlines: dict[str, Counter[str]] = field(default_factory=dict)
    breakdown: dict[str, Counter[str]] = field(default_factory=dict)
    by_year: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, case: Case, started: date) -> None:
        p = self.process
        self.cases += 1
        self.by_state[case.state] += 1
        self.duplicates += case.duplicate_of is not None
        self.first_time += case.duplicate_of is None
        accepted, closed = is_accepted(p, case), is_closed(p, case)
        self.accepted += accepted
        self.closed += closed
        filed = bool(case.data.get("filed"))
        self.filed += filed
        self.filed_closed += filed and closed
        self._deadlines(case)
        self._opinion(case.data.get("petitioner_opinion"))
        self.overdue_now += case.overdue
        self._breakdown(case, started.year)

    def _deadlines(self, case: Case) -> None:
        finished, late = _deadline_flags(case, self.on_time_deadlines)
        self.finished_deadline += finished
        self.on_time += finished and not late
        extensions = sum(d.extensions for d in case.deadlines.values())
        self.extensions += extensions
        self.extended_cases += extensions > 0
        for d in case.deadlines.values():
            counts = self.deadlines.setdefault(d.name, Counter())
            status = "met_late" if d.status == "met" and d.late else (
                "met_on_time" if d.status == "met" else d.status)
            counts[status] += 1
            counts["extended"] += d.extensions > 0

    def _opinion(self, opinion: Any) -> None:
        self.satisfied += opinion == "satisfied"
        self.unsatisfied += opinion == "unsatisfied"
        self.no_response += opinion == "no_response"

    def _breakdown(self, case: Case, year: int) -> None:
        names = [n for n in BREAKDOWN_FIELDS if n in self.process.fields]
        if not names:
            return
        row = self.by_year.setdefault(year, {"cases": 0, **{n: Counter() for n in names}})
        row["cases"] += 1
        for name in names:
            value = str(case.data.get(name) or UNSET)
            self.breakdown.setdefault(name, Counter())[value] += 1
            row[name][value] += 1

    def rates(self) -> dict[str, Rate]:
        fields = self.process.fields
        out = {"closure_rate": Rate(self.closed, self.accepted, "accepted cases (受理)")}
        if "filed" in fields:
            out["closure_rate_filed"] = Rate(self.filed_closed, self.filed, "filed cases (立案)")
            out["filing_rate"] = Rate(self.filed, self.first_time,
                                      "first-time cases received (初信初访)")
        which = ", ".join(sorted(self.on_time_deadlines)) or "any"
        out["on_time_rate"] = Rate(self.on_time, self.finished_deadline,
                                   f"cases with a finished deadline ({which})")
        if "petitioner_opinion" in fields:
            out["satisfaction_rate"] = Rate(self.satisfied, self.satisfied + self.unsatisfied,
                                            "rated cases (satisfied + unsatisfied)")
        return out

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "process": self.process.id, "cases": self.cases,
            "by_state": dict(sorted(self.by_state.items())),
            "first_time": self.first_time, "duplicates": self.duplicates,
            "accepted": self.accepted, "closed": self.closed,
            "rates": {k: r.as_dict() for k, r in self.rates().items()},
            "overdue_now": self.overdue_now,
            "extensions": {"cases": self.extended_cases, "total": self.extensions},
            "deadlines": {k: _deadline_doc(k, v) for k, v in sorted(self.deadlines.items())},
        }
        if "filed" in self.process.fields:
            doc["filed"] = self.filed
        if "petitioner_opinion" in self.process.fields:
            doc["opinions"] = {"satisfied": self.satisfied, "unsatisfied": self.unsatisfied,
                               "no_response": self.no_response}
        if self.breakdown:
            doc["complaints"] = {
                "by": {k: dict(v.most_common()) for k, v in self.breakdown.items()},
                "by_year": {str(y): {k: (dict(v.most_common()) if isinstance(v, Counter) else v)
                                     for k, v in row.items()}
                            for y, row in sorted(self.by_year.items())},
            }
        return doc


def deadline_rate(name: str, counts: Counter[str]) -> Rate:
    """One deadline's on-time rate: met on time ÷ finished (met, late or not, or expired)."""
    finished = counts["met_on_time"] + counts["met_late"] + counts["expired"]
    return Rate(counts["met_on_time"], finished, f"finished '{name}' deadlines")


def _deadline_doc(name: str, counts: Counter[str]) -> dict[str, Any]:
    return {**dict(sorted(counts.items())), "on_time_rate": deadline_rate(name, counts).as_dict()}


@dataclass
class Report:
    start: date | None
    end: date | None
    processes: dict[str, ProcessFigures] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        return sum(p.cases for p in self.processes.values())

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None, "cases": self.cases,
                "by_process": {k: v.as_dict() for k, v in sorted(self.processes.items())}}


def _start_date(process: ProcessDef, case: Case) -> date | None:
    if case.created_at is None:
        return None
    return case.created_at.astimezone(ZoneInfo(process.timezone)).date()


def build_report(cases: Iterable[Case], definitions: PinnedDefinitions,
                 start: date | None = None, end: date | None = None,
                 on_time_deadlines: Iterable[str] = ()) -> Report:
    """The figures over `cases` started between `start` and `end` (inclusive, local dates);
    `on_time_deadlines`: the deadlines 按期办结率 looks at (all when empty)."""
    names = frozenset(on_time_deadlines)
    report = Report(start, end)
    for case in cases:
        process = definitions.get(case.digest, case.id)
        day = _start_date(process, case)
        if day is None or (start and day < start) or (end and day > end):
            continue
        figures = report.processes.get(process.id)
        if figures is None:  # the newest version seen names the process; figures are by id
            figures = report.processes[process.id] = ProcessFigures(process, names)
        figures.add(case, day)
    return report


def report(store: Store, registry: Registry | None = None, *, process_id: str | None = None,
           start: date | None = None, end: date | None = None,
           on_time_deadlines: Iterable[str] = ()) -> Report:
    """KPIs over the cases of `store` (optionally one process), by the start date."""
    cases = store.cases(CaseQuery(process_id=process_id))
    return build_report(cases, PinnedDefinitions(store, registry), start, end,
                        on_time_deadlines)


def report_lines(rep: Report) -> list[str]:
    """The report as plain text lines for the terminal."""
    span = f"{rep.start or 'the beginning'} to {rep.end or 'now'}"
    lines = [f"{rep.cases} case(s) started from {span}"]
    for pid, fig in sorted(rep.processes.items()):
        lines += _process_lines(pid, fig)
    return lines


def _process_lines(pid: str, fig: ProcessFigures) -> list[str]:
    lines = ["", f"{pid}: {fig.cases} case(s), {fig.duplicates} flagged duplicate(s)",
             "  by state: " + ", ".join(f"{s} {n}" for s, n in sorted(fig.by_state.items()))]
    names = {"closure_rate": "结案率 closure", "closure_rate_filed": "结案率 closure (立案口径)",
             "filing_rate": "立案率 filing", "on_time_rate": "按期办结率 on time",
             "satisfaction_rate": "满意率 satisfaction"}
    lines += [f"  {names[k]}: {r}" for k, r in fig.rates().items()]
    lines.append(f"  overdue now: {fig.overdue_now}; extended: {fig.extended_cases} case(s), "
                 f"{fig.extensions} extension(s)")
    lines += [f"    {name}: {deadline_rate(name, counts)}"
              for name, counts in sorted(fig.deadlines.items())]
    for name, counts in sorted(fig.breakdown.items()):
        shown = ", ".join(f"{k} {n}" for k, n in counts.most_common())
        lines.append(f"  by {name}: {shown}")
    for year, row in sorted(fig.by_year.items()):
        lines.append(f"  {year}: {row['cases']} complaint(s)")
    return lines


__all__ = ["Rate", "Report", "ProcessFigures", "build_report", "closing_states", "deadline_rate",
           "is_accepted",
           "is_closed", "report", "report_lines"]
