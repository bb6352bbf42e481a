"""`flowengine report --format html`: the text report's tables, with bar charts and the
process diagram, as one printable page.

The tables are the very grids text, CSV and XLSX print (report/grids.py), so the page
shows the numbers of the JSON report. Charts: each `--by` table (stacked by the second
dimension of a cross-table), each process's on-time rate per deadline, and its 按期办结率
by month received. The diagram needs Graphviz `dot` on PATH; without it the page says
it was left out. With `--cases`, an appendix lists every case (appendix.py).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from ...definition.model import ProcessDef
from ...render import to_dot
from ..report.build import Report
from ..report.grids import deadline_label, kinded_grids, table_grid, word
from ..report.kpis import ProcessFigures, Rate, deadline_rate, month_rate
from .charts import Charts
from .page import esc, grid_table, page, section

_TEXT = {
    "title": ("信访与投诉工作统计报告", "Case-handling report"),
    "span": ("{start} 至 {end} 收件 {cases} 件", "{cases} case(s) received from {start} to {end}"),
    "span_closed": ("{start} 至 {end} 结案 {cases} 件", "{cases} case(s) closed from {start} to {end}"),
    "span_event": ("{start} 至 {end} 有办理记录的案件 {cases} 件",
                   "{cases} case(s) with an event from {start} to {end}"),
    "begin": ("最早", "the beginning"), "now": ("今", "now"),
    "as_of": ("（各项数字为 {at} 时的状态）", " (every figure as it stood at {at})"),
    "by_deadline": ("各期限按期率 (%)", "On-time rate by deadline (%)"),
    "by_month": ("按期办结率（按收件月份, %）", "On-time completion by month received (%)"),
    "tables": ("分类统计", "Counts by dimension"), "diagram": ("流程图", "Process diagram"),
    "no_dot": ("流程图未包含：本机未安装 Graphviz（dot 命令）。",
               "The process diagram is left out: Graphviz (the dot command) is not installed."),
    "dot_failed": ("流程图未包含：dot 未能绘制（{why}）。",
                   "The process diagram is left out: dot failed ({why})."),
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][lang != "zh"]


def report_html(rep: Report, diagrams: bool = True) -> str:
    """The whole page; `diagrams=False` leaves the process diagrams out."""
    lang, charts = rep.lang, Charts()
    key = "span" if rep.period_by == "received" else f"span_{rep.period_by}"
    span = _t(key, lang).format(start=rep.start or _t("begin", lang),
                                   end=rep.end or _t("now", lang), cases=rep.cases)
    if rep.as_of is not None:
        span += _t("as_of", lang).format(at=rep.as_of.isoformat())
    head = f'<h1>{esc(_t("title", lang))}</h1>\n<p class="lead">{esc(span)}</p>'
    sections = [_process(pid, fig, lang, charts, diagrams) for pid, fig
                in sorted(rep.processes.items())]
    if rep.tallies:
        sections.append(section(_t("tables", lang), *(_tally(t, lang, charts)
                                                      for t in rep.tables()), kind="tables"))
    if rep.appendix is not None:
        from .appendix import appendix_section

        sections.append(appendix_section(rep.appendix, lang))
    if not sections:
        sections = [section(_t("title", lang))]
    first, *rest = sections
    return page(_t("title", lang), lang, [first.replace("<h2>", head + "\n<h2>", 1), *rest])


def _process(pid: str, fig: ProcessFigures, lang: str, charts: Charts, diagrams: bool) -> str:
    process = fig.process
    heading = f"{process.title} ({pid})" if lang == "zh" and process.title else pid
    parts = [grid_table(g, kind) for kind, g in kinded_grids(pid, fig, lang)]
    rates = [(deadline_label(fig, n, lang), deadline_rate(n, c)) for n, c
             in sorted(fig.deadlines.items())]
    parts.append(_rate_chart(charts, f"{pid}: {_t('by_deadline', lang)}", rates))
    months = [(m, month_rate(m, o)) for m, o in sorted(fig.months.items())]
    parts.append(_rate_chart(charts, f"{pid}: {_t('by_month', lang)}", months))
    if diagrams:
        parts.append(f"<h3>{esc(_t('diagram', lang))}</h3>\n{diagram(process, lang)}")
    return section(heading, *parts, kind=f"process:{pid}")


def _rate_chart(charts: Charts, title: str, rates: list[tuple[str, Rate]]) -> str:
    """Bars of the rates that have a denominator (nothing when none has)."""
    shown = [(label, r.percent) for label, r in rates if r.percent is not None]
    if not shown:
        return ""
    return charts.bars(title, [s[0] for s in shown], [("%", [s[1] for s in shown])],
                       percent=True)


def _tally(table: dict[str, Any], lang: str, charts: Charts) -> str:
    grid = table_grid(table, lang)
    labels = [r["label"] for r in table["rows"]]
    if "columns" in table:
        series = [(c["label"], [r["cells"][i]["count"] for r in table["rows"]])
                  for i, c in enumerate(table["columns"])]
        chart = charts.bars(grid.title, labels, series, stacked=True)
    else:
        chart = charts.bars(grid.title, labels, [(word("count", lang),
                                                  [r["count"] for r in table["rows"]])])
    return grid_table(grid, "by") + "\n" + chart


def diagram(process: ProcessDef, lang: str) -> str:
    """The process as inline SVG drawn by Graphviz, or a note saying why it is not."""
    dot = shutil.which("dot")
    if dot is None:
        return f'<p class="note">{esc(_t("no_dot", lang))}</p>'
    try:
        done = subprocess.run([dot, "-Tsvg"], input=to_dot(process), capture_output=True,
                              text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        return f'<p class="note">{esc(_t("dot_failed", lang).format(why=e))}</p>'
    svg = done.stdout[done.stdout.find("<svg"):]
    return f'<figure class="diagram">{svg}</figure>'


__all__ = ["diagram", "report_html"]
