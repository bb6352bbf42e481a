"""The figures a petition office or a hospital's complaints department reports upward,
named as the offices name them (docs/audit.md has the table with numerators,
denominators and the source documents).

Why each definition is what it is:
- 立案率 is over *accepted* first-time cases (the county bureau's self-assessment counts
  "所受理初信初访"), so redirected and never-accepted cases do not dilute it;
- 及时受理率 / 按期答复率 / 按期办结率 look only at the deadlines the process declares
  for them (`kpi:` in the YAML), so an integrator's procedure gets the same figures;
- a deadline whose status is neither met, overdue nor expired (`cancelled`, a
  `superseded` one of an escalated case, any status added later) is counted neither on
  time nor late: only statuses known to mean "in time" or "late" enter a rate; a
  deadline superseded after it had already passed stays late (escalating a matter must
  not wipe out the lower level's delay).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...definition.model import ProcessDef
from ...records.case import Case, Deadline

CLOSING_STATES = frozenset({"closed", "resolved", "archived"})
DEADLINE_KPIS = ("timely_acceptance", "on_time_reply", "on_time_completion")
# key -> (zh name, en name); the order is the order of the report
KPI_NAMES: dict[str, tuple[str, str]] = {
    "filing_rate": ("立案率", "filing rate"),
    "closure_rate": ("结案率", "closure rate"),
    "closure_rate_filed": ("结案率（立案口径）", "closure rate of filed cases"),
    "assigned_closure_rate": ("交办件办结率", "closure rate of assigned cases"),
    "timely_acceptance_rate": ("及时受理率", "timely acceptance rate"),
    "on_time_reply_rate": ("按期答复率", "on-time reply rate"),
    "on_time_completion_rate": ("按期办结率", "on-time completion rate"),
    "satisfaction_rate": ("满意率", "satisfaction rate"),
    "duplicate_rate": ("重信重访率", "repeat petition rate"),
    "extension_rate": ("延期率", "extension rate"),
}
OUTCOMES = ("on_time", "late", "pending", "neither")
# where a case came from: the enum fields closure is broken down by, and the value that
# makes it a case assigned by a higher authority (交办件)
ORIGIN_FIELDS = ("source", "channel")
ASSIGNED = "assigned"


def percent(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator in per cent, rounded half up to two decimals (20.77)."""
    if not denominator:
        return None
    exact = Decimal(100 * numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Rate:
    """numerator ÷ denominator, with the basis (what the denominator counts) in English and
    in Chinese, so a report in either language says what it divided by."""

    numerator: int
    denominator: int
    basis: str
    basis_zh: str = ""

    def basis_in(self, lang: str) -> str:
        return self.basis_zh if lang == "zh" and self.basis_zh else self.basis

    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    @property
    def percent(self) -> float | None:
        return percent(self.numerator, self.denominator)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """`basis` in the report's language, and both wordings beside it."""
        return {"value": self.value, "percent": self.percent, "numerator": self.numerator,
                "denominator": self.denominator, "basis": self.basis_in(lang),
                "basis_en": self.basis, "basis_zh": self.basis_zh or self.basis}

    def __str__(self) -> str:
        shown = "n/a" if self.percent is None else f"{self.percent:.2f}%"
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


def past_due(d: Deadline, as_of: datetime | None) -> bool:
    """Overdue and still open: marked so by a tick, or (with `as_of`) open with its due
    instant passed by then, whether or not a tick had run."""
    return d.status == "overdue" or (as_of is not None and d.status == "open"
                                     and d.due is not None and d.due <= as_of)


def outcome(d: Deadline, as_of: datetime | None = None) -> str:
    """on_time | late | pending | neither (see `past_due` for `as_of`)."""
    if d.status == "met":
        return "late" if d.late else "on_time"
    if d.status == "expired" or past_due(d, as_of) or (d.status == "superseded" and d.late):
        return "late"  # a superseded deadline that had already passed stays late
    if d.status in ("open", "paused"):
        return "late" if d.late else "pending"  # late: overdue, then extended
    return "neither"  # cancelled, superseded, and any status this code does not know


def case_outcome(case: Case, names: Iterable[str], as_of: datetime | None) -> str | None:
    """A case's outcome over the named deadlines: late if one was late, else on time if
    one was met in time, else None (nothing decided yet, or not counted)."""
    found = {outcome(d, as_of) for n in names if (d := case.deadlines.get(n)) is not None}
    return "late" if "late" in found else ("on_time" if "on_time" in found else None)


def satisfaction_field(process: ProcessDef) -> str | None:
    """The first enum field with the values `satisfied` and `unsatisfied`."""
    return next((f.name for f in process.fields.values() if f.type == "enum"
                 and {"satisfied", "unsatisfied"} <= set(f.values)), None)


def kpi_deadlines(process: ProcessDef, kpi: str) -> tuple[str, ...]:
    return tuple(d.name for d in process.deadlines.values() if kpi in d.kpi)


@dataclass
class ProcessFigures:
    """The figures of one process over the selected cases, as they stood at `as_of`."""

    process: ProcessDef
    completion_override: tuple[str, ...] = ()  # `--deadline`: 按期办结率 over these instead
    as_of: datetime | None = None
    counts: Counter[str] = field(default_factory=Counter)
    by_state: Counter[str] = field(default_factory=Counter)
    kpi_outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    opinions: Counter[str] = field(default_factory=Counter)
    deadlines: dict[str, Counter[str]] = field(default_factory=dict)
    months: dict[str, Counter[str]] = field(default_factory=dict)  # 按期办结 by month received
    origins: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)  # field -> value

    def deadline_names(self, kpi: str) -> tuple[str, ...]:
        if kpi == "on_time_completion" and self.completion_override:
            return self.completion_override
        return kpi_deadlines(self.process, kpi)

    def add(self, case: Case, received: date | None = None) -> None:
        p, c = self.process, self.counts
        c["cases"] += 1
        self.by_state[case.state] += 1
        first = case.duplicate_of is None
        accepted, closed = is_accepted(p, case), is_closed(p, case)
        filed = bool(case.data.get("filed"))
        _tally(c, {"first_time": first, "duplicates": not first, "accepted": accepted,
                  "accepted_first_time": accepted and first, "closed": closed,
                  "filed": filed, "filed_first_time": filed and accepted and first,
                  "filed_closed": filed and closed})
        self._deadlines(case, received)
        self._origins(case, accepted, closed)
        opinion_field = satisfaction_field(p)
        if opinion_field is not None and case.data.get(opinion_field) is not None:
            self.opinions[str(case.data[opinion_field])] += 1

    def _origins(self, case: Case, accepted: bool, closed: bool) -> None:
        assigned = False
        for name in origin_fields(self.process):
            value = case.data.get(name)
            key = "(unset)" if value is None else str(value)
            assigned = assigned or key == ASSIGNED
            _tally(self.origins.setdefault(name, {}).setdefault(key, Counter()),
                   {"cases": True, "accepted": accepted, "closed": closed and accepted})
        _tally(self.counts, {"assigned": assigned, "assigned_accepted": assigned and accepted,
                             "assigned_closed": assigned and accepted and closed})

    def origin_rows(self, name: str) -> list[tuple[str, Counter[str]]]:
        """The values of origin field `name` seen, in declared order, unset last."""
        seen = self.origins.get(name, {})
        order = [v for v in self.process.fields[name].values if v in seen]
        return [(v, seen[v]) for v in order + sorted(set(seen) - set(order))]

    def _deadlines(self, case: Case, received: date | None) -> None:
        for kpi in DEADLINE_KPIS:
            names = self.deadline_names(kpi)
            result = case_outcome(case, names, self.as_of) if names else None
            self.kpi_outcomes.setdefault(kpi, Counter())[result or "none"] += 1
            if kpi == "on_time_completion" and received is not None and result is not None:
                self.months.setdefault(f"{received:%Y-%m}", Counter())[result] += 1
        extensions = sum(d.extensions for d in case.deadlines.values())
        _tally(self.counts, {"extensions": extensions, "extended_cases": extensions > 0,
                            "overdue": any(past_due(d, self.as_of) and d.marked
                                           for d in case.deadlines.values())})
        for d in case.deadlines.values():
            counts = self.deadlines.setdefault(d.name, Counter())
            _tally(counts, {d.status: 1, outcome(d, self.as_of): 1, "extended": d.extensions > 0,
                            "provisional": bool(d.provisional) and d.active})

    def rates(self) -> dict[str, Rate]:
        c, fields = self.counts, self.process.fields
        out: dict[str, Rate] = {}
        if "filed" in fields:
            out["filing_rate"] = Rate(c["filed_first_time"], c["accepted_first_time"],
                                      "accepted first-time cases", "所受理初信初访件")
        out["closure_rate"] = Rate(c["closed"], c["accepted"], "accepted cases", "受理件")
        if "filed" in fields:
            out["closure_rate_filed"] = Rate(c["filed_closed"], c["filed"], "filed cases",
                                             "立案件")
        if any(ASSIGNED in self.process.fields[f].values for f in origin_fields(self.process)):
            out["assigned_closure_rate"] = Rate(c["assigned_closed"], c["assigned_accepted"],
                                                "accepted cases assigned by a higher authority",
                                                "受理的上级交办件")
        for kpi in DEADLINE_KPIS:
            names = self.deadline_names(kpi)
            if names:
                o = self.kpi_outcomes.get(kpi, Counter())
                out[f"{kpi}_rate"] = Rate(
                    o["on_time"], o["on_time"] + o["late"],
                    f"cases whose {', '.join(names)} deadline was decided",
                    f"{'、'.join(self._titles(names))}期限已有结果（按期或超期）的案件")
        if satisfaction_field(self.process) is not None:
            rated = self.opinions["satisfied"] + self.opinions["unsatisfied"]
            out["satisfaction_rate"] = Rate(self.opinions["satisfied"], rated,
                                            "rated cases (satisfied + unsatisfied)",
                                            "已评价案件（满意与不满意）")
        out["duplicate_rate"] = Rate(c["duplicates"], c["cases"], "cases received", "收件")
        out["extension_rate"] = Rate(c["extended_cases"], c["accepted"], "accepted cases",
                                     "受理件")
        return out

    def _titles(self, names: Iterable[str]) -> list[str]:
        return [(d.title if (d := self.process.deadlines.get(n)) and d.title else n)
                for n in names]

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        c = self.counts
        doc: dict[str, Any] = {
            "process": self.process.id, "cases": c["cases"],
            "by_state": dict(sorted(self.by_state.items())),
            **{k: c[k] for k in ("first_time", "duplicates", "accepted", "closed")},
            "rates": {k: r.as_dict(lang) for k, r in self.rates().items()},
            "overdue_now": c["overdue"],
            "extensions": {"cases": c["extended_cases"], "total": c["extensions"]},
            "backdated": {"cases": c["backdated_cases"], "events": c["backdated_events"]},
            "deadlines": {k: deadline_doc(k, v, lang) for k, v in sorted(self.deadlines.items())},
            "on_time_by_month": {m: month_rate(m, o).as_dict(lang)
                                 for m, o in sorted(self.months.items())},
        }
        if "filed" in self.process.fields:
            doc["filed"] = c["filed"]
        if self.origins:
            doc["closure_by_origin"] = {name: {value: origin_rate(name, value, counts)
                                               .as_dict(lang) | {"cases": counts["cases"]}
                                               for value, counts in self.origin_rows(name)}
                                        for name in sorted(self.origins)}
        if satisfaction_field(self.process) is not None:
            doc["opinions"] = dict(sorted(self.opinions.items()))
        return doc


def _tally(counter: Counter[str], flags: dict[str, int | bool]) -> None:
    """Add each flag as 0 or 1 (Counter.update would store a bool into an empty counter)."""
    for key, value in flags.items():
        counter[key] += int(value)


def deadline_rate(name: str, counts: Counter[str]) -> Rate:
    """One deadline's on-time rate: met in time ÷ decided (in time or late)."""
    return Rate(counts["on_time"], counts["on_time"] + counts["late"],
                f"decided '{name}' deadlines", f"已有结果的“{name}”期限")


def origin_fields(process: ProcessDef) -> tuple[str, ...]:
    """The enum fields saying where a case came from (`source`, `channel`) it declares."""
    return tuple(n for n in ORIGIN_FIELDS if (f := process.fields.get(n)) is not None
                 and f.type == "enum")


def origin_rate(name: str, value: str, counts: Counter[str]) -> Rate:
    """结案率 of the accepted cases whose `name` field is `value`."""
    return Rate(counts["closed"], counts["accepted"], f"accepted cases with {name} {value}",
                f"{name} 为 {value} 的受理件")


def month_rate(month: str, counts: Counter[str]) -> Rate:
    """按期办结率 of the cases received in `month`."""
    return Rate(counts["on_time"], counts["on_time"] + counts["late"],
                f"cases received in {month} whose deadline was decided",
                f"{month} 收件中办结期限已有结果的案件")


def deadline_doc(name: str, counts: Counter[str], lang: str = "en") -> dict[str, Any]:
    return {**{k: counts[k] for k in OUTCOMES}, "extended": counts["extended"],
            "provisional": counts["provisional"],
            "by_status": {k: v for k, v in sorted(counts.items())
                          if k not in OUTCOMES and k not in ("extended", "provisional") and v},
            "on_time_rate": deadline_rate(name, counts).as_dict(lang)}


__all__ = ["ASSIGNED", "DEADLINE_KPIS", "KPI_NAMES", "ORIGIN_FIELDS", "ProcessFigures", "Rate",
           "case_outcome", "closing_states", "deadline_rate", "is_accepted", "is_closed",
           "kpi_deadlines", "month_rate", "origin_fields", "origin_rate", "outcome", "past_due",
           "percent", "satisfaction_field"]
