"""`flowengine calendar …`: the calendar questions clerks and integrators ask by hand.

Thin on purpose: parse the arguments, ask `flowengine.calendar`, print text or one JSON
document. Calendar errors (a year without data, a malformed file) are raised as they are
and mapped to stderr and an exit code once, in `flowengine.cli.main`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from ..audit.timeline import describe_effect
from ..calendar import (
    MAX_YEAR,
    MIN_YEAR,
    Calendar,
    LayeredCalendar,
    TableCalendar,
    build_calendar,
    dates_of_year,
    end_of_day,
    explain_due,
    weekday_name,
)
from ..clock import DEFAULT_TZ
from ..definition.model import Duration
from ..errors import CalendarYearMissing
from . import cli
from .common import INSTANT, EngineSpec, engine_options, open_engine
from .terminal import progress


def _date(ctx: click.Context, param: click.Parameter, value: str) -> date:
    """Click callback: an ISO date, or a usage error (exit 2) saying how to write one."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; write YYYY-MM-DD") from None


YEAR = click.IntRange(MIN_YEAR, MAX_YEAR)


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every calendar command takes: layered files and JSON output."""
    func = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(func)
    return click.option(
        "--calendar", "files", multiple=True, type=click.Path(dir_okay=False),
        help="A calendar file layered over the national data (repeatable; later files win).",
    )(func)


def _emit(as_json: bool, doc: dict[str, Any], lines: Sequence[str]) -> None:
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)


@cli.group("calendar")
def calendar_group() -> None:
    """Working days, holidays and statutory due dates (national data, provisional years, files)."""


@calendar_group.command("is-workday")
@click.argument("day", metavar="DATE", callback=_date)
@_common
def is_workday_cmd(day: date, files: tuple[str, ...], as_json: bool) -> None:
    """Whether DATE is a working day, and what it is (exit 0 either way)."""
    cal = build_calendar(files)
    worked, name = cal.is_workday(day), cal.day_name(day)
    answer = "a working day" if worked else "not a working day"
    provisional = cal.provisional(day.year)
    text = (f"{day} {weekday_name(day)}: {answer}" + (f" ({name})" if name else "")
            + (f" — provisional: {_PROVISIONAL_NOTE.format(year=day.year)}" if provisional else ""))
    doc = {"date": str(day), "weekday": weekday_name(day), "workday": worked, "name": name,
           "provisional": provisional}
    _emit(as_json, doc, [text])


@calendar_group.command("add")
@click.argument("start", metavar="DATE", callback=_date)
@click.argument("duration", metavar='"N days"|"N working days"')
@click.option("--no-roll", is_flag=True, help="Do not roll a day period off a rest day.")
@click.option("--pause", "pauses", multiple=True, metavar="FROM..TO",
              help="Days FROM <= d < TO are not counted (repeatable).")
@click.option("--timezone", "tz_name", default=str(DEFAULT_TZ), show_default=True,
              help="Time zone of the due instant.")
@_common
def add_cmd(start: date, duration: str, no_roll: bool, pauses: tuple[str, ...],
            tz_name: str, files: tuple[str, ...], as_json: bool) -> None:
    """The due date of a period of DURATION from DATE, and why."""
    amount, unit = _period(duration)
    tz = _zone(tz_name)
    spans = [_pause(text) for text in pauses]
    cal = build_calendar(files)
    why = explain_due(cal, start, amount, unit, roll_forward=not no_roll, pauses=spans)
    instant = end_of_day(why.due, tz)
    doc = {
        "start": str(start), "amount": amount, "unit": unit, "roll_forward": not no_roll,
        "pauses": [[str(a), str(b)] for a, b in spans], "nominal": str(why.nominal),
        "due": str(why.due), "due_instant": instant.isoformat(), "reasons": why.reasons,
        "provisional": bool(why.provisional), "provisional_years": list(why.provisional),
    }
    mark = " PROVISIONAL" if why.provisional else ""
    head = (f"{start} + {Duration(amount, unit)}: due {why.due} ({weekday_name(why.due)}){mark}; "
            f"overdue from {instant:%Y-%m-%d %H:%M} {tz_name}")
    _emit(as_json, doc, [head, *(f"  {reason}" for reason in why.reasons)])


@calendar_group.command("list")
@click.option("--year", required=True, type=YEAR, help="The year to list.")
@_common
def list_cmd(year: int, files: tuple[str, ...], as_json: bool) -> None:
    """The holidays and make-up working days of a year."""
    cal = build_calendar(files)
    if not cal.covers(year):
        raise CalendarYearMissing(year)
    days = [(d, cal.day_name(d), cal.is_workday(d)) for d in dates_of_year(year)]
    named = [t for t in days if t[1] is not None]
    off = [_day_doc(d, n) for d, n, worked in named if not worked]
    on = [_day_doc(d, n) for d, n, worked in named if worked]
    doc = {"year": year, "source": _source(cal, year), "provisional": cal.provisional(year),
           "holidays": off, "workdays": on}
    lines = [f"{year} ({doc['source']})", "days off:"]
    if doc["provisional"]:
        lines.insert(1, f"PROVISIONAL: {_PROVISIONAL_NOTE.format(year=year)}")
    lines += [f"  {run}" for run in _runs([t for t in named if not t[2]])]
    lines += ["working days (make-up days and named working days):"]
    lines += [f"  {d} {weekday_name(d)}  {n}" for d, n, worked in named if worked]
    _emit(as_json, doc, lines)


@calendar_group.command("check")
@click.option("--year", required=True, type=YEAR, help="The year to check.")
@click.option("--official", is_flag=True,
              help="Exit 1 unless the year has official data (a provisional year fails too).")
@_common
def check_cmd(year: int, files: tuple[str, ...], as_json: bool, official: bool) -> None:
    """Whether YEAR is covered, officially or provisionally; if not, which file to add.

    Exit 1 when the year is not covered at all (or, with --official, only provisionally)."""
    cal = build_calendar(files)
    covered, provisional = cal.covers(year), cal.provisional(year)
    missing = CalendarYearMissing(year)
    partial = _files_mentioning(cal, year)
    fill = (f"fill {missing.hint_file} from the State Council's notice "
            f"(国务院办公厅关于{year}年部分节假日安排的通知), set 'covers: [{year}]', and pass "
            f"it with --calendar or list it under 'calendars:' in the process YAML")
    if provisional:
        message = f"{year} is covered PROVISIONALLY ({_PROVISIONAL_NOTE.format(year=year)}); {fill}"
    elif covered:
        message = f"{year} is covered by {_source(cal, year)}"
    else:
        message = f"{year} is not covered: {fill}"
    notes = [f"{path} names days in {year} but does not say 'covers: [{year}]'; "
             f"they apply only on top of what covers {year}" for path in partial]
    doc = {"year": year, "covered": covered, "provisional": provisional,
           "source": _source(cal, year),
           "missing_file": None if covered and not provisional else missing.hint_file,
           "message": message, "notes": notes}
    _emit(as_json, doc, [message, *notes])
    if not covered or (official and provisional):
        # Not ctx.exit(1): cli.main runs click with standalone_mode=False, which turns
        # click's Exit into a return value that main() does not pass on to sys.exit.
        sys.exit(1)


@calendar_group.command("reconcile")
@click.option("--now", "now", type=INSTANT, default=None,
              help="The instant the recount is recorded at (default: now).")
@engine_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def reconcile_cmd(now: datetime | None, spec: EngineSpec, as_json: bool) -> None:
    """Recount every open deadline counted over a provisional calendar year whose official
    data is now loaded; one event per changed case (tick does the same first)."""
    engine = open_engine(spec)
    with progress("calendar reconcile", as_json=as_json):
        events = engine.reconcile(now)
    lines = [f"{e.case_id}: " + "; ".join(describe_effect(x) for x in e.effects) for e in events]
    lines.append(f"{len(events)} case(s) recounted")
    doc = {"recounted": [{"case": e.case_id, "seq": e.seq,
                          "deadlines": [_recount_doc(x) for x in e.effects]} for e in events]}
    _emit(as_json, doc, lines)


def _recount_doc(effect: Any) -> dict[str, Any]:
    return {"deadline": effect["deadline"], "old_due": effect.get("old_due_date"),
            "due": effect.get("due_date"), "provisional": effect.get("provisional", []),
            "why": effect.get("why")}


# -- helpers ---------------------------------------------------------------------------


def _period(text: str) -> tuple[int, Any]:
    try:
        duration = Duration.parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="DURATION") from None
    if duration.unit not in ("days", "working_days"):
        raise click.BadParameter(
            f"'{text}' is a clock duration; the calendar counts N days or N working days",
            param_hint="DURATION",
        )
    return duration.amount, duration.unit


def _pause(text: str) -> tuple[date, date]:
    start, sep, end = text.partition("..")
    try:
        if not sep:
            raise ValueError
        span = (date.fromisoformat(start.strip()), date.fromisoformat(end.strip()))
    except ValueError:
        raise click.BadParameter(f"'{text}' is not FROM..TO (YYYY-MM-DD..YYYY-MM-DD)",
                                 param_hint="--pause") from None
    if span[1] < span[0]:
        raise click.BadParameter(f"'{text}' ends before it starts", param_hint="--pause")
    return span


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone '{name}'", param_hint="--timezone") from None


def _day_doc(d: date, name: str | None) -> dict[str, Any]:
    return {"date": str(d), "weekday": weekday_name(d), "name": name}


def _runs(days: list[tuple[date, str | None, bool]]) -> list[str]:
    """Consecutive days off with one name as 'A – B  name (k days)'."""
    runs: list[list[tuple[date, str | None]]] = []
    for d, name, _ in days:
        if runs and runs[-1][-1][1] == name and (d - runs[-1][-1][0]).days == 1:
            runs[-1].append((d, name))
        else:
            runs.append([(d, name)])
    return [
        f"{run[0][0]} {weekday_name(run[0][0])}  {run[0][1]}" if len(run) == 1
        else f"{run[0][0]} – {run[-1][0]}  {run[0][1]} ({len(run)} days)"
        for run in runs
    ]


def _source(cal: Calendar, year: int) -> str | None:
    return cal.source(year) if isinstance(cal, TableCalendar) else None


_PROVISIONAL_NOTE = ("weekends and the 13 statutory holidays only, no 调休; dates move when the "
                     "State Council's {year} arrangement is loaded")


def _files_mentioning(cal: Calendar, year: int) -> list[str]:
    if not isinstance(cal, LayeredCalendar) or (cal.covers(year) and not cal.provisional(year)):
        return []
    return [layer.path for layer in cal.layers if year in layer.mentioned_years]

