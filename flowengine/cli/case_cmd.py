"""`flowengine case start|fire|show|list`: record what happened to a case, and look at it.

Thin on purpose: parse, call the `Engine`, render. A refused trigger changes nothing; the
command prints each reason on its own line on stderr and exits 2 (the engine refused the
input, docs/cli.md), with `--json` also one document on stdout saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn

import click

from ..audit.recorded import mark_timeline, recorded_times
from ..audit.rows import readable_history
from ..audit.timeline import deadline_outcome, entry
from ..clock import DEFAULT_TZ
from ..engine.engine import Engine
from ..errors import Rejection, TriggerRejected
from ..records.case import Actor, Case
from ..records.values import to_json
from . import cli
from .bounds import limit_range
from .common import (
    EngineSpec,
    actor_options,
    at_option,
    creating_engine_options,
    data_options,
    emit,
    engine_options,
    json_option,
    open_engine,
    reading_engine_options,
)
from .recorded_opts import tolerance_option


@cli.group("case")
def case_group() -> None:
    """Start cases, fire triggers, show and list cases."""


def _rejected(exc: TriggerRejected, as_json: bool, *, new_case: bool = False) -> NoReturn:
    """Print why, then exit 2 (SystemExit: click would swallow its own Exit in `main`).
    A refused start names no case: the id it would have had does not exist."""
    case_id = None if new_case else exc.case_id
    where = "no case was created" if new_case else f"case {exc.case_id}"
    click.echo(f"error: {where}: '{exc.trigger}' rejected in state '{exc.state}':", err=True)
    for reason in exc.reasons:
        click.echo(f"  - {reason.check}: {with_advice(reason)}", err=True)
    if as_json:
        emit(True, {"ok": False, "case": case_id, "trigger": exc.trigger,
                    "state": exc.state,
                    "reasons": [{"check": r.check, "message": with_advice(r)}
                                for r in exc.reasons]},
             [])
    raise SystemExit(2)


def with_advice(reason: Rejection) -> str:
    """The library's message, with how to give missing fields on the command line after
    their list ("missing data: a, b (give --set a=… --set b=…)")."""
    if not reason.missing:
        return reason.message
    listing = ", ".join(reason.missing)
    at = reason.message.find(listing + ";")  # the list ends the message or its first part
    end = at + len(listing) if at >= 0 else len(reason.message)
    given = " ".join(f"--set {m}=…" for m in reason.missing)
    return f"{reason.message[:end]} (give {given}){reason.message[end:]}"


def case_doc(case: Case, duplicates: list[str] | None = None) -> dict[str, Any]:
    """A case as JSON (`Case.to_dict` in local time), with its duplicates' ids."""
    return {**case.to_dict(DEFAULT_TZ), "duplicates": duplicates or []}


def _iso(value: datetime | None) -> str | None:
    """Instants as Asia/Shanghai local time (the store may hand them back in UTC)."""
    return value.astimezone(DEFAULT_TZ).isoformat() if value is not None else None


def _summary(case: Case) -> str:
    dup = f" (duplicate of {case.duplicate_of})" if case.duplicate_of else ""
    overdue = " OVERDUE" if case.overdue else ""
    return f"{case.id} {case.process_id}: {case.state}{overdue}{dup}"


@case_group.command("start")
@click.argument("process_id", metavar="PROCESS")
@data_options
@at_option
@actor_options
@creating_engine_options
@json_option
def start_cmd(process_id: str, data: Mapping[str, Any], at: datetime | None,
              actor: Actor | None, spec: EngineSpec, as_json: bool) -> None:
    """Start a case of PROCESS; prints its id."""
    engine = open_engine(spec)
    try:
        case = engine.start(process_id, data, actor=actor, at=at)
    except TriggerRejected as exc:
        _rejected(exc, as_json, new_case=True)
    emit(as_json, case_doc(case), [case.id])
    for line in _duplicate_lines(case):  # stderr: `id=$(flowengine case start …)` stays the id
        click.echo(line, err=True)


def _duplicate_lines(case: Case) -> list[str]:
    if not case.duplicate_of:
        return []
    return [f"flagged as a duplicate (重信重访) of open case {case.duplicate_of}"]


@case_group.command("fire")
@click.argument("case_id", metavar="CASE")
@click.argument("trigger")
@data_options
@at_option
@actor_options
@engine_options
@json_option
def fire_cmd(case_id: str, trigger: str, data: Mapping[str, Any], at: datetime | None,
             actor: Actor | None, spec: EngineSpec, as_json: bool) -> None:
    """Fire TRIGGER on CASE; a refused trigger changes nothing and says why (exit 2)."""
    engine = open_engine(spec)
    before = engine.case(case_id).seq
    try:
        case = engine.fire(case_id, trigger, data, actor=actor, at=at)
    except TriggerRejected as exc:
        _rejected(exc, as_json)
    events = [e for e in readable_history(engine.store, case_id) if e.seq > before]
    doc = {**case_doc(case), "events": [entry(e).as_dict() for e in events]}
    emit(as_json, doc, [entry(e).line() for e in events] + [_summary(case)])


def _pointing_here(engine: Engine, case: Case) -> list[str]:
    """Ids of the cases flagged as duplicates of `case`."""
    return sorted(c.id for c in engine.cases(process=case.process_id)
                  if c.duplicate_of == case.id)


@case_group.command("show")
@click.argument("case_id", metavar="CASE")
@reading_engine_options
@tolerance_option
@json_option
def show_cmd(case_id: str, spec: EngineSpec, tolerance: timedelta, as_json: bool) -> None:
    """State, data, deadlines, duplicate links and history of CASE (a backdated event is
    marked)."""
    engine = open_engine(spec, load_processes=False)
    case = engine.case(case_id)
    history = mark_timeline([entry(e) for e in readable_history(engine.store, case_id)],
                            recorded_times(engine.store, case_id), tolerance)
    duplicates = _pointing_here(engine, case)
    failure = engine.failures.book.failures_of([case_id]).get(case_id)
    doc = {**case_doc(case, duplicates), "failure": failure.as_dict() if failure else None,
           "history": [h.as_dict() for h in history]}
    lines = _show_lines(case, duplicates, [h.line() for h in history])
    if failure is not None:  # right under the summary: what an operator must see first
        lines.insert(1, f"  failing: {failure.line()}")
    emit(as_json, doc, lines)


def _show_lines(case: Case, duplicates: list[str], history: list[str]) -> list[str]:
    lines = [_summary(case), f"  process {case.process_id} (version {case.digest[:12]}), "
             f"{case.seq} event(s), started {_iso(case.created_at)}"]
    if case.owner:
        lines.append(f"  first receiver (首问负责): {case.owner.name} ({case.owner.role})")
    if duplicates:
        lines.append(f"  duplicates of this case (重信重访): {', '.join(duplicates)}")
    lines.append("data:")
    lines += [f"  {k}: {v}" for k, v in sorted(to_json(case.data).items())]
    lines.append("deadlines:")
    lines += [f"  {deadline_outcome(d)}" for d in sorted(case.deadlines.values(),
                                                          key=lambda d: d.name)] or ["  (none)"]
    return lines + ["history:"] + [f"  {h}" for h in "\n".join(history).splitlines()]


@case_group.command("list")
@click.option("--process", "process_id", metavar="PROCESS", help="Only cases of this process.")
@click.option("--state", metavar="STATE", help="Only cases in this state.")
@click.option("--overdue", is_flag=True, help="Only cases with an overdue deadline.")
@click.option("--limit", type=limit_range(), help="At most this many cases (1 to 10^9).")
@reading_engine_options
@json_option
def list_cmd(process_id: str | None, state: str | None, overdue: bool, limit: int | None,
             spec: EngineSpec, as_json: bool) -> None:
    """List cases (optionally by process, state, overdue)."""
    engine = open_engine(spec, load_processes=False)
    cases = engine.cases(process=process_id, state=state, overdue=True if overdue else None,
                         limit=limit)
    doc = {"cases": [_list_row(c) for c in cases]}
    emit(as_json, doc, [_summary(c) for c in cases] or ["no cases"])


def _list_row(case: Case) -> dict[str, Any]:
    open_deadlines = [d for d in case.deadlines.values() if d.active]
    return {"id": case.id, "process": case.process_id, "state": case.state,
            "overdue": case.overdue, "duplicate_of": case.duplicate_of,
            "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
            "open_deadlines": [{"name": d.name, "status": d.status,
                                "due": d.due_date.isoformat() if d.due_date else None}
                               for d in open_deadlines]}
