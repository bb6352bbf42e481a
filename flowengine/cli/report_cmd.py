"""`flowengine report`: the KPIs and `--by` tables as text, JSON, CSV, Excel or HTML.

Why a module of its own: the report has many options (selection, as-of, dimensions,
language, formats) and none of them concerns the other operations commands. Bad input
(an unknown `--by`, a bad date, xlsx without a file) is a usage error, exit 2.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click

from ..audit.html import report_html
from ..audit.report import LANGS, PERIOD_BASES, report, report_grids, report_lines
from ..audit.sheets import csv_text, write_xlsx
from ..clock import DEFAULT_TZ, parse_instant
from . import cli
from .common import EngineSpec, ParsedType, open_engine, reading_engine_options
from .recorded_opts import tolerance_option

FORMATS = ("text", "json", "csv", "xlsx", "html")


def _as_of(text: str) -> datetime:
    """A date means its end (24:00 Asia/Shanghai, the instant the next day starts)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(0), DEFAULT_TZ)
    return parse_instant(text)


DATE = ParsedType("DATE", date.fromisoformat, date, "not a date; write YYYY-MM-DD")
AS_OF = ParsedType("DATE|TIME", _as_of, datetime,
                   "not a date or a time; write YYYY-MM-DD (the end of that day) or ISO 8601 "
                   "such as 2026-06-30T18:00")


@cli.command("report")
@click.option("--process", "process_id", metavar="PROCESS", help="Only this process.")
@click.option("--from", "start", type=DATE,
              help="Cases received (or, by --period-by, closed or worked on) on or after (local).")
@click.option("--to", "end", type=DATE, help="... on or before this date (local; see --period-by).")
@click.option("--period-by", "period_by", type=click.Choice(PERIOD_BASES), default="received",
              show_default=True,
              help="Which date --from/--to select by: received, closed (entered a closing "
                   "state) or event (any event of the case).")
@click.option("--as-of", "as_of", type=AS_OF,
              help="Every figure as it stood then, from the events up to that instant "
                   "(a date means its end, 24:00).")
@click.option("--deadline", "deadlines", multiple=True, metavar="NAME",
              help="按期办结率 over these deadlines instead of the declared ones (repeatable).")
@click.option("--by", "by", multiple=True, metavar="FIELD",
              help="Count by year, month, state, an enum/boolean field or DATEFIELD.year|month; "
                   "twice for a cross-table.")
@click.option("--lang", type=click.Choice(LANGS), default="zh", show_default=True,
              help="Labels: the YAML's Chinese titles, or the English names.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default text; xlsx needs --output; html is one printable "
                   "page with charts).")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option("--cases", "cases", is_flag=True,
              help="Add the per-case appendix (each case's state, dates and deadlines) to "
                   "the report, in every format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of stdout.")
@reading_engine_options
@tolerance_option
def report_cmd(process_id: str | None, start: date | None, end: date | None, period_by: str,
               as_of: datetime | None, deadlines: tuple[str, ...], by: tuple[str, ...],
               lang: str, fmt: str | None, as_json: bool, cases: bool, output: str | None,
               spec: EngineSpec, tolerance: timedelta) -> None:
    """KPIs (立案率, 结案率, 及时受理率, 按期答复率, 按期办结率, 满意率, 重信重访率, extensions)
    and counts by dimension; docs/audit.md defines each figure."""
    fmt = _format(fmt, as_json)
    if start and end and end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    if len(by) > 2:
        raise click.BadParameter("give at most two (a cross-table)", param_hint="--by")
    if fmt == "xlsx" and output is None:
        raise click.BadParameter("an Excel file needs a file name: --output report.xlsx",
                                 param_hint="--format")
    engine = open_engine(spec, load_processes=False)
    rep = report(engine.store, engine.registry, process_id=process_id, start=start, end=end,
                 on_time_deadlines=deadlines, as_of=as_of, by=by, lang=lang,
                 tolerance=tolerance, period_by=period_by, cases=cases)
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(report_grids(rep), output)
        return
    if fmt == "json":
        text = json.dumps(rep.as_dict(), ensure_ascii=False, indent=2, default=str) + "\n"
    elif fmt == "csv":
        text = csv_text(report_grids(rep))
    elif fmt == "html":
        text = report_html(rep)
    else:
        text = "\n".join(report_lines(rep)) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8", newline="")


def _format(fmt: str | None, as_json: bool) -> str:
    if as_json and fmt not in (None, "json"):
        raise click.BadParameter(f"--json and --format {fmt} disagree; give one",
                                 param_hint="--format")
    return "json" if as_json else (fmt or "text")
