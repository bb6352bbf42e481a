"""`report --by FIELD [--by FIELD2]`: counts and percentages by one or two dimensions,
labelled with the YAML's titles (a hospital's statistics table, e.g. 投诉内容 × 投诉部门).

A dimension is `year` or `month` (of the date the case was received), `state`, an enum
or boolean field, or `FIELD.year` / `FIELD.month` of a date field. Percentages are of the
table's total for one dimension and of the row's total in a cross-table (the share of
each department within a kind of complaint), rounded half up to two decimals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ...definition.model import ProcessDef
from ...errors import FlowengineError
from ...records.case import Case
from .kpis import percent

UNSET = None
_SPECIAL = {"year": ("年份", "year"), "month": ("月份", "month"), "state": ("状态", "state")}
_WORDS = {"unset": ("(未填)", "(unset)"), "true": ("是", "yes"), "false": ("否", "no")}


class UnknownDimension(FlowengineError):
    """`--by` names something no selected process can be counted by (exit 2)."""


@dataclass(frozen=True)
class Dimension:
    """One `--by` name as it applies to one process."""

    name: str
    process: ProcessDef

    def __post_init__(self) -> None:
        if self.name in _SPECIAL:
            return
        base, _, part = self.name.partition(".")
        f = self.process.fields.get(base)
        if f is None or f.type not in ("enum", "boolean", "date", "datetime") or (
                bool(part) != (f.type in ("date", "datetime")) or part not in ("", "year", "month")):
            raise UnknownDimension(self.name)

    def key(self, case: Case, received: date) -> str | None:
        if self.name in ("year", "month"):
            return _period(received, self.name)
        if self.name == "state":
            return case.state
        base, _, part = self.name.partition(".")
        value = case.data.get(base)
        if value is None:
            return UNSET
        if part:
            return _period(value, part)
        return str(value).lower() if isinstance(value, bool) else str(value)

    def order(self) -> list[str]:
        """The declared order of the values (enum values, states); others sort."""
        if self.name == "state":
            return list(self.process.states)
        f = self.process.fields.get(self.name)
        if f is not None and f.type == "enum":
            return list(f.values)
        return ["true", "false"] if f is not None and f.type == "boolean" else []

    def title(self, lang: str) -> str:
        if self.name in _SPECIAL:
            return _SPECIAL[self.name][lang != "zh"]
        base, _, part = self.name.partition(".")
        f = self.process.fields[base]
        name = f.title if f.title and lang == "zh" else base
        return f"{name}.{part}" if part else name

    def label(self, key: str | None, lang: str) -> str:
        if key is None:
            return _WORDS["unset"][lang != "zh"]
        if lang != "zh":
            return _WORDS[key][1] if key in _WORDS and self._boolean() else key
        if self.name == "state":
            state = self.process.states.get(key)
            return state.title if state is not None and state.title else key
        f = self.process.fields.get(self.name)
        if f is not None and f.type == "boolean":
            return _WORDS.get(key, (key,))[0]
        return f.value_titles.get(key, key) if f is not None else key

    def _boolean(self) -> bool:
        f = self.process.fields.get(self.name)
        return f is not None and f.type == "boolean"


def _period(value: Any, part: str) -> str:
    if not isinstance(value, date):
        value = date.fromisoformat(str(value)[:10])
    return f"{value.year:04d}" if part == "year" else f"{value.year:04d}-{value.month:02d}"


def dimensions(names: Sequence[str], process: ProcessDef) -> list[Dimension] | None:
    """The dimensions for `process`, or None when it lacks one of them."""
    try:
        return [Dimension(n, process) for n in names]
    except UnknownDimension:
        return None


def available(process: ProcessDef) -> list[str]:
    """What `--by` accepts for `process`, for the error message."""
    out = list(_SPECIAL)
    for f in process.fields.values():
        if f.type in ("enum", "boolean"):
            out.append(f.name)
        elif f.type in ("date", "datetime"):
            out += [f"{f.name}.year", f"{f.name}.month"]
    return out


@dataclass
class Tally:
    """The counts of one process by its dimensions (one or two)."""

    dims: list[Dimension]
    counts: Counter[tuple[str | None, ...]] = field(default_factory=Counter)

    def add(self, case: Case, received: date) -> None:
        self.counts[tuple(d.key(case, received) for d in self.dims)] += 1

    def values(self, i: int) -> list[str | None]:
        """The values of dimension `i` in declared order, then others sorted, unset last."""
        seen = {k[i] for k in self.counts}
        ordered: list[str | None] = [v for v in self.dims[i].order() if v in seen]
        ordered += sorted(v for v in seen if v is not None and v not in ordered)
        return ordered + ([None] if None in seen else [])

    def as_dict(self, lang: str) -> dict[str, Any]:
        """The table: one dimension -> rows with count and percent of the total; two ->
        rows with cells (count, percent of the row), row totals and column totals."""
        total = sum(self.counts.values())
        first = self.dims[0]
        rows: list[dict[str, Any]] = []
        for v in self.values(0):
            n = sum(c for k, c in self.counts.items() if k[0] == v)
            row: dict[str, Any] = {"value": v, "label": first.label(v, lang), "count": n,
                   "percent": percent(n, total)}
            if len(self.dims) > 1:
                row["cells"] = [self._cell(v, w, n, lang) for w in self.values(1)]
            rows.append(row)
        doc: dict[str, Any] = {"process": first.process.id, "by": [d.name for d in self.dims],
                               "titles": [d.title(lang) for d in self.dims], "rows": rows,
                               "total": total}
        if len(self.dims) > 1:
            doc["columns"] = [self._column(w, total, lang) for w in self.values(1)]
        return doc

    def _cell(self, v: str | None, w: str | None, row_total: int, lang: str) -> dict[str, Any]:
        n = self.counts[(v, w)]
        return {"value": w, "label": self.dims[1].label(w, lang), "count": n,
                "percent": percent(n, row_total)}

    def _column(self, w: str | None, total: int, lang: str) -> dict[str, Any]:
        n = sum(c for k, c in self.counts.items() if k[1] == w)
        return {"value": w, "label": self.dims[1].label(w, lang), "count": n,
                "percent": percent(n, total)}


__all__ = ["Dimension", "Tally", "UnknownDimension", "available", "dimensions"]
