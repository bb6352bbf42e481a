"""`flowengine failures`: the cases whose timers (or calendar recount) failed, for operators.

Why a command of its own: a poison case is left aside with back-off while every other case
goes on, so nothing stops; an operator needs one place listing what is stuck, why, how
often it was tried and when it is tried next (docs/cli.md). Read-only.
"""

from __future__ import annotations

import click

from . import cli
from .bounds import limit_range
from .common import EngineSpec, emit, json_option, open_engine, reading_engine_options


@cli.command("failures")
@click.option("--limit", type=limit_range(), help="At most this many cases (1 to 10^9).")
@reading_engine_options
@json_option
def failures_cmd(limit: int | None, spec: EngineSpec, as_json: bool) -> None:
    """List the cases whose timers failed in tick/worker (or whose calendar recount
    failed), the soonest retried first; a case leaves the list when it next succeeds."""
    engine = open_engine(spec, load_processes=False)
    failures = engine.failures.book.all_failures(limit)
    emit(as_json, {"failures": [f.as_dict() for f in failures]},
         [f.line() for f in failures] or ["no failing cases"])
