"""A report as plain grids (a title, a header, rows of cells): what the text, CSV and
Excel outputs print, so the three show the same numbers as the JSON document."""

from __future__ import annotations

from typing import Any

from ..sheets import Cell, Grid, grid_lines
from .appendix import appendix_grids
from .build import Report
from .dimensions import Dimension
from .kpis import KPI_NAMES, OUTCOMES, ProcessFigures, deadline_rate, origin_rate

_WORDS = {
    "figures": ("指标", "figures"), "counts": ("数量", "counts"), "deadlines": ("期限", "deadlines"),
    "figure": ("指标", "figure"), "numerator": ("分子", "numerator"),
    "denominator": ("分母", "denominator"), "percent": ("百分比 (%)", "percent"),
    "basis": ("口径", "basis"), "count": ("数量", "count"), "total": ("合计", "total"),
    "item": ("项目", "item"), "deadline": ("期限", "deadline"),
    "on_time": ("按期", "on time"), "late": ("超期", "late"), "pending": ("未到期", "pending"),
    "neither": ("不计 (撤销、被取代等)", "not counted (cancelled, superseded …)"),
    "extended": ("延期", "extended"), "on_time_rate": ("按期率 (%)", "on-time %"),
    "provisional": ("暂定期限", "provisional due"),
    "cases": ("收件", "received"), "first_time": ("初信初访", "first-time"),
    "duplicates": ("重信重访", "repeat petitions"), "accepted": ("受理", "accepted"),
    "filed": ("立案", "filed"), "closed": ("结案", "closed"),
    "overdue": ("超期未办结", "overdue now"), "extended_cases": ("延期件", "extended cases"),
    "extensions": ("延期次数", "extensions"),
    "backdated_cases": ("倒签件", "backdated cases"),
    "backdated_events": ("倒签事件", "backdated events"),
    "by_origin": ("结案率（按{field}）", "closure rate by {field}"),
}
COUNT_ROWS = ("cases", "first_time", "duplicates", "accepted", "filed", "closed", "overdue",
              "extended_cases", "extensions", "backdated_cases", "backdated_events")


def word(key: str, lang: str) -> str:
    return _WORDS[key][lang != "zh"]


def report_grids(rep: Report) -> list[Grid]:
    """Per process: counts, KPIs, deadlines; then each `--by` table; then the appendix."""
    out = [g for pid, fig in sorted(rep.processes.items())
           for g in process_grids(pid, fig, rep.lang)]
    out += [table_grid(t, rep.lang) for t in rep.tables()]
    return out + (appendix_grids(rep.appendix, rep.lang) if rep.appendix is not None else [])


def process_grids(pid: str, fig: ProcessFigures, lang: str) -> list[Grid]:
    """One process's counts, KPIs, closure by origin and (if any) deadlines."""
    return [g for _, g in kinded_grids(pid, fig, lang)]


def kinded_grids(pid: str, fig: ProcessFigures, lang: str) -> list[tuple[str, Grid]]:
    """`process_grids`, each with its kind (counts, kpis, origin, deadlines) for the HTML."""
    out = [("counts", _counts(pid, fig, lang)), ("kpis", _kpis(pid, fig, lang))]
    out += [("origin", _origin(pid, fig, name, lang)) for name in sorted(fig.origins)]
    return out + ([("deadlines", _deadlines(pid, fig, lang))] if fig.deadlines else [])


def _origin(pid: str, fig: ProcessFigures, name: str, lang: str) -> Grid:
    """结案率 by where the cases came from (交办件办结率 is the `assigned` row)."""
    dim = Dimension(name, fig.process)
    field = dim.title(lang)
    header = [field] + [word(k, lang) for k in ("cases", "accepted", "closed", "percent")]
    rows: list[list[Cell]] = []
    for value, counts in fig.origin_rows(name):
        rate = origin_rate(name, value, counts)
        rows.append([dim.label(None if value == "(unset)" else value, lang), counts["cases"],
                     counts["accepted"], counts["closed"], rate.percent])
    return Grid(f"{pid}: {word('by_origin', lang).format(field=field)}", header, rows)


def _counts(pid: str, fig: ProcessFigures, lang: str) -> Grid:
    rows: list[list[Cell]] = [[word(k, lang), fig.counts[k]] for k in COUNT_ROWS
                              if k != "filed" or "filed" in fig.process.fields]
    return Grid(f"{pid}: {word('counts', lang)}", [word("item", lang), word("count", lang)], rows)


def _kpis(pid: str, fig: ProcessFigures, lang: str) -> Grid:
    header = [word(k, lang) for k in ("figure", "numerator", "denominator", "percent", "basis")]
    rows: list[list[Cell]] = [[KPI_NAMES[k][lang != "zh"], r.numerator, r.denominator,
                               r.percent, r.basis_in(lang)] for k, r in fig.rates().items()]
    return Grid(f"{pid}: {word('figures', lang)}", header, rows)


def _deadlines(pid: str, fig: ProcessFigures, lang: str) -> Grid:
    header = [word(k, lang) for k in ("deadline", *OUTCOMES, "extended", "provisional",
                                      "on_time_rate")]
    rows: list[list[Cell]] = []
    for name, counts in sorted(fig.deadlines.items()):
        rows.append([deadline_label(fig, name, lang), *(counts[k] for k in OUTCOMES), counts["extended"],
                     counts["provisional"], deadline_rate(name, counts).percent])
    return Grid(f"{pid}: {word('deadlines', lang)}", header, rows)


def deadline_label(fig: ProcessFigures, name: str, lang: str) -> str:
    d = fig.process.deadlines.get(name)
    return d.title if d is not None and d.title and lang == "zh" else name


def table_grid(table: dict[str, Any], lang: str) -> Grid:
    """One `--by` table (`Tally.as_dict`) as a grid, with a total row."""
    titles, total = table["titles"], table["total"]
    title = f"{table['process']}: {' × '.join(titles)}"
    pct, tot = word("percent", lang), word("total", lang)
    if "columns" not in table:
        rows: list[list[Cell]] = [[r["label"], r["count"], r["percent"]] for r in table["rows"]]
        rows.append([tot, total, 100.0 if total else None])
        return Grid(title, [titles[0], word("count", lang), pct], rows)
    columns = table["columns"]
    header = [" × ".join(titles)]
    for c in columns:
        header += [c["label"], f"{c['label']} %"]
    header += [tot, pct]
    rows = []
    for r in table["rows"]:
        cells: list[Cell] = [r["label"]]
        for c in r["cells"]:
            cells += [c["count"], c["percent"]]
        rows.append(cells + [r["count"], r["percent"]])
    last: list[Cell] = [tot]
    for c in columns:
        last += [c["count"], c["percent"]]
    rows.append(last + [total, 100.0 if total else None])
    return Grid(title, header, rows)


def report_lines(rep: Report) -> list[str]:
    """The report as text for the terminal: a headline, then every grid."""
    span = f"{rep.start or 'the beginning'} to {rep.end or 'now'}"
    verb = {"received": "received", "closed": "closed", "event": "with an event"}
    head = f"{rep.cases} case(s) {verb[rep.period_by]} from {span}"
    if rep.as_of is not None:
        head += f", as they stood at {rep.as_of.isoformat()}"
    lines = [head]
    for grid in report_grids(rep):
        lines += ["", *grid_lines(grid)]
    return lines


__all__ = ["deadline_label", "kinded_grids", "process_grids", "report_grids", "report_lines",
           "table_grid", "word"]
