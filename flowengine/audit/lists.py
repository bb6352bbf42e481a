"""The duty lists (责任清单; five_step's 四个清单) a procedure declares under `lists:`,
produced from the stored cases by `flowengine lists`.

Why the lists are YAML and not code: which cases a list holds and which fields it shows
are an office's choice (a municipal bureau applies the four lists to every assigned or supervised
matter), so a list is a `when` over a case and a few columns. Each row adds what every
list needs and no field holds: the case's state, its next open deadline and whether the
case is overdue. Read-only: the store is never written, and "now" is never read (the
rows say what the stored cases say).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from ..definition.model import FieldDef, ListDef, ProcessDef
from ..expr import Expr, SimpleEnv, compile_expr
from ..records.case import Case
from .sheets import Cell, Grid

_WORDS = {"case": ("案件", "case"), "state": ("状态", "state"),
          "next": ("下一期限", "next deadline"), "due": ("到期日", "due"),
          "status": ("办理情况", "status"), "overdue": ("已超期", "overdue"),
          "open": ("办理中", "in progress"), "done": ("已办结", "finished")}


def _word(key: str, lang: str) -> str:
    return _WORDS[key][lang != "zh"]


def duty_lists(cases: Iterable[tuple[Case, ProcessDef]], lang: str = "zh",
               only: Collection[str] = ()) -> list[Grid]:
    """One grid per declared list that holds at least one case, in process and YAML order;
    with `only`, just the lists of those names."""
    grids: dict[tuple[str, str], Grid] = {}
    for case, p in sorted(cases, key=lambda cp: (cp[1].id, cp[0].id)):
        for x in p.lists.values():
            if only and x.name not in only:
                continue
            if x.when and not _expr(p, x.when).evaluate(_env(case)):
                continue
            grid = grids.get((p.id, x.name))
            if grid is None:
                grid = grids[(p.id, x.name)] = Grid(_title(p, x, lang), _header(p, x, lang), [])
            grid.rows.append(_row(case, p, x, lang))
    return list(grids.values())


def lists_json(grids: Sequence[Grid]) -> list[dict[str, Any]]:
    """The grids as JSON objects (rows keyed by the header)."""
    return [{"title": g.title, "columns": g.header,
             "rows": [dict(zip(g.header, row, strict=True)) for row in g.rows]} for g in grids]


def _title(p: ProcessDef, x: ListDef, lang: str) -> str:
    name = x.title if lang == "zh" and x.title else x.name
    return f"{p.title if lang == 'zh' else p.id}: {name}"


def _header(p: ProcessDef, x: ListDef, lang: str) -> list[str]:
    names = [(p.fields[c].title if lang == "zh" and p.fields[c].title else c) for c in x.columns]
    return [_word("case", lang), *names, *(_word(k, lang) for k in ("state", "next", "due", "status"))]


def _row(case: Case, p: ProcessDef, x: ListDef, lang: str) -> list[Cell]:
    values = [_text(p.fields[c], case.data.get(c), lang) for c in x.columns]
    running = sorted((d for d in case.deadlines.values() if d.active and d.due_date is not None),
                     key=lambda d: (d.due_date or date.max, d.name))
    nxt = running[0] if running else None
    state = p.states[case.state].title if lang == "zh" and p.states[case.state].title else case.state
    overdue = any(d.status == "overdue" for d in case.deadlines.values())
    status = "overdue" if overdue else ("done" if not running and case.state in _ended(p) else "open")
    deadline = "" if nxt is None else (p.deadlines[nxt.name].title if lang == "zh" else "") or nxt.name
    due = "" if nxt is None or nxt.due_date is None else nxt.due_date.isoformat()
    return [case.id, *values, state, deadline, due, _word(status, lang)]


def _ended(p: ProcessDef) -> frozenset[str]:
    return p.final_states | {s for s in ("closed", "resolved") if s in p.states}


def _text(f: FieldDef, value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_text(f, v, lang) for v in value)
    if isinstance(value, str) and lang == "zh":
        return f.value_titles.get(value, value)
    return value.isoformat() if isinstance(value, date) else str(value)


def _env(case: Case) -> SimpleEnv:
    assert case.updated_at is not None
    return SimpleEnv(now=case.updated_at, data={**case.data, "state": case.state})


@lru_cache(maxsize=256)
def _compiled(text: str, names: frozenset[str]) -> Expr:
    return compile_expr(text, names)


def _expr(p: ProcessDef, text: str) -> Expr:
    return _compiled(text, frozenset(p.fields) | {"state", "signatures"})


__all__ = ["duty_lists", "lists_json"]
