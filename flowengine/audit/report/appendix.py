"""The per-case appendix of a report (`report --cases`): every selected case with its
process, state, dates and deadlines, so a reader can check an aggregate figure against
the cases behind it.

Why the same words as the deadline outcomes of the KPIs: a deadline's 按期 / 超期 / 未到期 /
不计 here is `kpis.outcome` of that deadline as of the report's instant, the very value the
rates count, so the appendix explains the figures rather than restating the case record.
A provisional due date (暂定: counted over a year whose official holidays are not loaded)
is marked with its years.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...definition.model import ProcessDef
from ...records.case import Case, Deadline
from ..sheets import Cell, Grid
from .kpis import is_closed, outcome

_OUTCOME = {"on_time": ("按期", "on time"), "late": ("超期", "late"),
            "pending": ("未到期", "pending"), "neither": ("不计", "not counted")}
_STATUS = {"open": "进行中", "met": "已办结", "overdue": "已超期", "expired": "已届满",
           "cancelled": "已取消", "superseded": "已被取代", "paused": "已中止"}
_HEAD = {"cases": (("案件", "流程", "状态", "收件日期", "结案日期", "最近事件", "期限数", "超期期限"),
                   ("case", "process", "state", "received", "closed", "last event", "deadlines",
                    "late deadlines")),
         "deadlines": (("案件", "期限", "起算日", "到期日", "办结日", "状态", "按期情况", "延期次数",
                        "暂定期限"),
                       ("case", "deadline", "counted from", "due", "stopped", "status",
                        "outcome", "extensions", "provisional"))}
_TITLES = {"cases": ("附录：案件明细", "Appendix: cases"),
           "deadlines": ("附录：案件期限", "Appendix: deadlines of the cases")}


def outcome_word(key: str, lang: str) -> str:
    return _OUTCOME[key][lang != "zh"]


def status_word(status: str, lang: str) -> str:
    """A deadline status in Chinese (`zh`) or as stored."""
    return _STATUS.get(status, status) if lang == "zh" else status


def appendix_title(kind: str, lang: str) -> str:
    return _TITLES[kind][lang != "zh"]


def appendix_header(kind: str, lang: str) -> list[str]:
    return list(_HEAD[kind][lang != "zh"])


@dataclass(frozen=True)
class DeadlineLine:
    name: str
    title: str
    status: str
    outcome: str  # on_time | late | pending | neither (kpis.outcome)
    counted_from: date | None
    due: date | None
    stopped: date | None
    extensions: int
    provisional: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "status": self.status,
                "outcome": self.outcome, "counted_from": _iso(self.counted_from),
                "due": _iso(self.due), "stopped": _iso(self.stopped),
                "extensions": self.extensions, "provisional": list(self.provisional)}


@dataclass(frozen=True)
class CaseLine:
    """One selected case as it stood at the report's instant."""

    id: str
    process: str
    process_title: str
    state: str
    state_title: str
    received: date
    closed: date | None  # the last day it entered a closing state, if it is closed
    last_event: date | None
    deadlines: tuple[DeadlineLine, ...]

    @property
    def late(self) -> int:
        return sum(d.outcome == "late" for d in self.deadlines)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "process": self.process, "state": self.state,
                "state_title": self.state_title, "received": self.received.isoformat(),
                "closed": _iso(self.closed), "last_event": _iso(self.last_event),
                "late_deadlines": self.late, "deadlines": [d.as_dict() for d in self.deadlines]}


def case_line(process: ProcessDef, case: Case, received: date,
              closed_days: Sequence[date], as_of: datetime | None) -> CaseLine:
    """The appendix line of `case`; `closed_days`: the days it entered a closing state."""
    tz = ZoneInfo(process.timezone)
    state = process.states.get(case.state)
    closed = max(closed_days) if closed_days and is_closed(process, case) else None
    last = case.updated_at.astimezone(tz).date() if case.updated_at else None
    lines = tuple(_deadline(process, d, as_of, tz) for d in
                  sorted(case.deadlines.values(), key=lambda d: (d.started_at, d.name)))
    return CaseLine(case.id, process.id, process.title or process.id, case.state,
                    (state.title if state is not None and state.title else case.state),
                    received, closed, last, lines)


def _deadline(process: ProcessDef, d: Deadline, as_of: datetime | None,
              tz: ZoneInfo) -> DeadlineLine:
    declared = process.deadlines.get(d.name)
    due = d.due_date or (d.due.astimezone(tz).date() if d.due else None)
    stopped = d.stopped_at.astimezone(tz).date() if d.stopped_at else None
    return DeadlineLine(d.name, declared.title if declared and declared.title else d.name,
                        d.status, outcome(d, as_of), d.start_date, due, stopped, d.extensions,
                        tuple(d.provisional) if d.active else ())


def appendix_grids(lines: Sequence[CaseLine], lang: str) -> list[Grid]:
    """The appendix as two flat tables (text, CSV, XLSX): the cases, and their deadlines."""
    zh = lang == "zh"
    cases: list[list[Cell]] = [[c.id, c.process_title if zh else c.process,
                                c.state_title if zh else c.state, c.received.isoformat(),
                                _iso(c.closed) or "", _iso(c.last_event) or "",
                                len(c.deadlines), c.late] for c in lines]
    deadlines: list[list[Cell]] = [
        [c.id, d.title if zh else d.name, _iso(d.counted_from) or "", _iso(d.due) or "",
         _iso(d.stopped) or "", status_word(d.status, lang), outcome_word(d.outcome, lang),
         d.extensions,
         provisional_note(d.provisional, lang)] for c in lines for d in c.deadlines]
    return [Grid(appendix_title("cases", lang), appendix_header("cases", lang), cases),
            Grid(appendix_title("deadlines", lang), appendix_header("deadlines", lang),
                 deadlines)]


def provisional_note(years: Sequence[int], lang: str) -> str:
    if not years:
        return ""
    listed = "、".join(map(str, years)) if lang == "zh" else ", ".join(map(str, years))
    return f"暂定（{listed} 年日历）" if lang == "zh" else f"provisional ({listed} calendar)"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


__all__ = ["CaseLine", "DeadlineLine", "appendix_grids", "appendix_header", "appendix_title",
           "case_line", "outcome_word", "provisional_note", "status_word"]
