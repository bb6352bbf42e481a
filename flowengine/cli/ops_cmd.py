"""`flowengine tick|worker|replay|audit verify|export`: running timers, and the auditor's
commands (`report` is in report_cmd.py).

Exit codes (docs/cli.md): `replay` and `audit verify` exit 1 when the history does not
verify (tampered chain, projection that differs from the replay) and name the case and the
event; unknown cases and bad options exit 2. The audit commands load no process folders:
they use only the definition versions pinned in the database, and write nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import click

from ..audit.checkpoint import Checkpoint, check, pinned, places
from ..audit.export import Recorded, export_text, write_history_xlsx
from ..audit.html import export_html
from ..audit.recorded import backdated_events, mark_timeline, recorded_times
from ..audit.replay import Replayer, ReplayResult
from ..audit.rows import readable_history
from ..audit.timeline import deadlines_summary, entry
from ..audit.verify import CaseProblem, VerifyReport, verify_store
from ..engine.engine import Engine
from ..engine.failures import TickFailure
from ..plugins.outbox import DeliveryReport
from ..records.events import Event
from . import cli
from .bounds import INTERVAL_MAX, FiniteSeconds
from .common import (
    INSTANT,
    EngineSpec,
    creating_engine_options,
    emit,
    json_option,
    open_engine,
    reading_engine_options,
)
from .periodic import checkpoint_after_tick, checkpoint_policy
from .recorded_opts import tolerance_option
from .terminal import progress
from .whole_cmd import export_all_cmd, one_or_all, replay_all_cmd


def _fired_lines(events: list[Event]) -> list[str]:
    return [f"{e.case_id} " + entry(e).line() for e in events]


def _fired_doc(events: list[Event]) -> list[dict[str, Any]]:
    return [{"case": e.case_id, **entry(e).as_dict()} for e in events]


def quiet_option(func: Any) -> Any:
    return click.option("--quiet", "-q", is_flag=True,
                        help="Print only the summary, not one line per event.")(func)


@cli.command("tick")
@click.option("--now", "now", type=INSTANT, default=None,
              help="Fire what is due at this time (default: now).")
@quiet_option
@creating_engine_options
@json_option
def tick_cmd(now: datetime | None, quiet: bool, spec: EngineSpec, as_json: bool) -> None:
    """Fire every timer that is due, then deliver the notifications that are due; a second
    tick at the same time does nothing."""
    engine = open_engine(spec)
    policy = checkpoint_policy(engine)
    with progress("tick: due cases", as_json=as_json) as advance:
        fired = engine.tick(now, progress=advance)
    sent = engine.plugins.deliver_due(now)
    failed = _tell_failures(engine)
    written = checkpoint_after_tick(engine, policy)
    lines = ([] if quiet else _fired_lines(fired)) + [f"{len(fired)} timer event(s)",
                                                      _delivery_line(sent)]
    lines += [f"checkpoint written: {written}"] if written else []
    emit(as_json, {"now": now.isoformat() if now else None, "fired": _fired_doc(fired),
                   "delivery": sent.as_dict(), "failed": [f.as_dict() for f in failed],
                   "checkpoint": str(written) if written else None}, lines)


def _tell_failures(engine: Engine, told: set[tuple[str, int]] | None = None) -> list[TickFailure]:
    """Name on stderr each case whose timers failed in this tick (the others went on);
    `told` keeps a worker from repeating a failure it has already reported."""
    failed = list(engine.failures.failures.values())
    for f in failed:
        if told is None or (f.case_id, f.attempts) not in told:
            click.echo(f"warning: case {f.line()}", err=True)
        if told is not None:
            told.add((f.case_id, f.attempts))
    return failed


def _delivery_line(sent: DeliveryReport) -> str:
    return (f"{len(sent.delivered)} notification(s) delivered, {len(sent.retrying)} to retry, "
            f"{len(sent.dead)} dead-lettered")


class _StopFlag:
    """Set by SIGTERM/SIGINT; the worker finishes its tick and stops."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()


@contextmanager
def _stop_on_signals(flag: _StopFlag) -> Iterator[None]:
    old = {s: signal.signal(s, flag) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


@cli.command("worker")
@click.option("--interval", type=FiniteSeconds(0, INTERVAL_MAX), default=30.0,
              show_default=True, help="Seconds between ticks (0 to 86400).")
@click.option("--max-ticks", type=click.IntRange(min=1), default=None,
              help="Stop after this many ticks (for tests and cron-like use).")
@creating_engine_options
@json_option
@quiet_option
def worker_cmd(interval: float, max_ticks: int | None, quiet: bool, spec: EngineSpec,
               as_json: bool) -> None:
    """Run `tick` (timers, then notification delivery) in a loop until SIGTERM/SIGINT
    (or --max-ticks)."""
    engine = open_engine(spec)
    policy = checkpoint_policy(engine)
    flag = _StopFlag()
    ticks, fired, checkpoints = 0, 0, 0
    told: set[tuple[str, int]] = set()
    with _stop_on_signals(flag):
        if not as_json and not quiet:
            click.echo(f"worker started: a tick every {interval:g} s until SIGTERM/SIGINT")
        while not flag.event.is_set():
            events = engine.tick()
            sent = engine.plugins.deliver_due()
            _tell_failures(engine, told)
            written = checkpoint_after_tick(engine, policy)
            ticks, fired = ticks + 1, fired + len(events)
            checkpoints += written is not None
            if not as_json and not quiet:
                for line in _fired_lines(events):
                    click.echo(line)
                if sent.delivered or sent.retrying or sent.dead:
                    click.echo(_delivery_line(sent))
                if written is not None:
                    click.echo(f"checkpoint written: {written}")
            if max_ticks is not None and ticks >= max_ticks:
                break
            flag.event.wait(interval)
    stopped = "signal" if flag.event.is_set() else "max-ticks"
    emit(as_json, {"ticks": ticks, "fired": fired, "stopped_by": stopped,
                   "checkpoints": checkpoints},
         [f"worker stopped ({stopped}) after {ticks} tick(s), {fired} timer event(s)"])


def _replay_lines(result: ReplayResult) -> list[str]:
    head = f"case {result.case_id}: {result.events} event(s)"
    if result.until is not None:
        head += f"; as it stood at {result.until.isoformat()} ({result.folded} folded)"
    lines = [head, ""] + [t.line() for t in result.timeline]
    case = result.case
    if case is not None:
        lines += ["", f"state: {case.state}" + (" (overdue)" if case.overdue else ""),
                  "deadlines:"] + [f"  {d}" for d in deadlines_summary(case)]
    if result.ok:
        checked = "chain verified; replay equals the stored case" if result.compared else (
            "chain verified (the stored case is compared only without --until)")
        lines.append(f"ok: {checked}")
    return lines


@cli.command("replay")
@click.argument("case_id", metavar="CASE", required=False)
@click.option("--all", "whole", is_flag=True,
              help="Every case: the whole store as it stood --until, by process and state.")
@click.option("--until", type=INSTANT, default=None,
              help="Show the case as it stood at this time.")
@reading_engine_options
@tolerance_option
@json_option
def replay_cmd(case_id: str | None, whole: bool, until: datetime | None, spec: EngineSpec,
               tolerance: timedelta, as_json: bool) -> None:
    """Rebuild CASE from its events, check its chain and compare with the stored case
    (--all: every case, summarised by process and state)."""
    case_id = one_or_all(case_id, whole)
    engine = open_engine(spec, load_processes=False)
    if case_id is None:
        replay_all_cmd(engine, until, as_json)
        return
    result = Replayer(engine.store, engine.registry).replay(case_id, until)
    result.timeline = mark_timeline(result.timeline, recorded_times(engine.store, case_id),
                                    tolerance)
    emit(as_json, result.as_dict(), _replay_lines(result))
    if not result.ok:
        for problem in result.problems():
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1)


@cli.group("audit")
def audit_group() -> None:
    """Check the stored histories."""


@audit_group.command("verify")
@click.option("--strict", is_flag=True, help="Backdated events are an error (exit 1), "
              "not a warning.")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Also prove the log only grew since this checkpoint.")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The checkpoint must be signed by this Ed25519 public key (PEM).")
@reading_engine_options
@tolerance_option
@json_option
def verify_cmd(strict: bool, checkpoint_file: str | None, pubkey: str | None, spec: EngineSpec,
               tolerance: timedelta, as_json: bool) -> None:
    """Check every case's chain and projection; exit 1 naming each broken case and event.
    Backdated events are a warning (an error with --strict). With --checkpoint, also the
    first missing or changed log index since it."""
    from .audit_cmd import load_checkpoint

    cp = load_checkpoint(checkpoint_file, pubkey) if checkpoint_file else None
    engine = open_engine(spec, load_processes=False)
    log = check(engine.store, cp) if cp is not None else []

    def tell(problem: CaseProblem) -> None:
        if not as_json and cp is None:  # under a checkpoint: told below, with log indices
            click.echo(f"BROKEN {problem}")

    with progress("audit verify", as_json=as_json):
        rep = verify_store(engine.store, engine.registry, on_problem=tell)
    summary = (f"{rep.cases} case(s), {rep.events} event(s) checked: "
               + ("all verified" if rep.ok else f"{len(rep.problems)} broken"))
    back = list(backdated_events(engine.store, tolerance))
    doc = {**rep.as_dict(), "ok": rep.ok and not log,
           "backdated": [b.as_dict() for b in back],
           "backdate_tolerance_seconds": tolerance.total_seconds(), "checkpoint": None}
    lines = [f"BROKEN {d}" for d in rep.definitions]
    if cp is not None:
        lines = _placed(engine.store, cp, rep, doc)
    lines += [f"BACKDATED {b}" for b in back] + [f"CHANGED {f}" for f in log]
    if cp is not None:
        lines.append(f"checkpoint of {cp.size} entries: " + (
            "the log is an append-only extension of it" if not log else "NOT an extension"))
        doc["checkpoint"] = {"size": cp.size, "root": cp.root, "extended": not log,
                             "findings": [f.as_dict() for f in log]}
    emit(as_json, doc, lines + [summary])
    if log:
        click.echo(f"error: the log is not an extension of the checkpoint; first at log "
                   f"index {log[0].index}", err=True)
    if back:
        level = "error" if strict else "warning"
        click.echo(f"{level}: {len(back)} backdated event(s): claimed more than {tolerance} "
                   "before the database recorded them", err=True)
    if rep.definitions:
        click.echo(f"error: {len(rep.definitions)} stored definition(s) do not match their "
                   "digest", err=True)
    if rep.problems:
        click.echo(f"error: {len(rep.problems)} case(s) do not verify", err=True)
    if not rep.ok or (strict and back) or log:
        raise SystemExit(1)


def _placed(store: Any, cp: Checkpoint, rep: VerifyReport, doc: dict[str, Any]) -> list[str]:
    """The broken cases and definitions with their places in the log (`--checkpoint`): the
    log index of each broken case's named event, and of each entry (`started` event) that
    pins a case to a changed definition text; added to `doc` as `log_index` / `pinned`."""
    where = places(store, cp, ((p.case_id, p.seq) for p in rep.problems))
    lines = []
    for problem, item in zip(rep.problems, doc["broken"], strict=True):
        place = where.get((problem.case_id, problem.seq))
        item["log_index"] = place.index if place is not None else None
        item["covered"] = place.covered if place is not None else None
        lines.append(f"BROKEN {problem}" + (f" [{place}]" if place is not None else ""))
    pins = pinned(store, cp, (d.digest for d in rep.definitions))
    for definition, item in zip(rep.definitions, doc["broken_definitions"], strict=True):
        item["pinned"] = [p.as_dict() for p in pins.get(definition.digest, [])]
        lines.append(f"BROKEN {definition}")
        lines += [f"  pinned by case {p.case_id}: event {p.seq} [{p}]"
                  for p in pins.get(definition.digest, [])]
    return lines


@cli.command("export")
@click.argument("case_id", metavar="CASE", required=False)
@click.option("--all", "whole", is_flag=True,
              help="Every case, streamed as JSON lines (docs/audit.md).")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="With --all: export under this checkpoint (the log must "
              "extend it; each case line carries its checkpointed head).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The checkpoint must be signed by this Ed25519 public key (PEM).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx", "html"]), default="json",
              show_default=True, help="xlsx needs --output.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here instead of stdout.")
@reading_engine_options
@tolerance_option
def export_cmd(case_id: str | None, whole: bool, checkpoint_file: str | None,
               pubkey: str | None, fmt: str, output: str | None, spec: EngineSpec,
               tolerance: timedelta) -> None:
    """The history of CASE as JSON, CSV (UTF-8 with a BOM), an Excel file or the auditor's
    printable timeline (html), with each event's recorded time and whether it was backdated;
    --all: every case as JSON lines."""
    case_id = one_or_all(case_id, whole)
    if case_id is None:
        export_all_cmd(spec, fmt, output, tolerance, checkpoint_file, pubkey)
        return
    if checkpoint_file is not None:
        raise click.BadParameter("a checkpoint goes with --all", param_hint="--checkpoint")
    if fmt == "xlsx" and output is None:
        raise click.BadParameter("an Excel file needs a file name: --output case.xlsx",
                                 param_hint="--format")
    engine = open_engine(spec, load_processes=False)
    events = readable_history(engine.store, case_id)
    recorded = Recorded(recorded_times(engine.store, case_id), tolerance)
    if fmt == "xlsx":
        assert output is not None
        write_history_xlsx(case_id, events, output, recorded)
        return
    text = (export_html(engine.store, engine.registry, case_id, events, recorded)
            if fmt == "html" else export_text(case_id, events, fmt, recorded))
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8", newline="")
