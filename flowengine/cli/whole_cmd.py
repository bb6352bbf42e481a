"""`replay --all` and `export --all`: the whole store as of an instant, and every history as
JSON lines (flowengine/audit/whole.py). Read-only like the one-case commands they extend."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

import click

from ..audit.whole import export_all, replay_store
from ..engine.engine import Engine
from .common import EngineSpec, emit, open_engine
from .terminal import progress


def one_or_all(case_id: str | None, whole: bool) -> str | None:
    """CASE, or None for --all; exactly one of them (a usage error otherwise)."""
    if whole and case_id is not None:
        raise click.UsageError("give either CASE or --all, not both")
    if not whole and case_id is None:
        raise click.UsageError("missing CASE (or --all for every case)")
    return case_id


def replay_all_cmd(engine: Engine, until: datetime | None, as_json: bool) -> None:
    """The store as it stood at `until`; exit 1 naming each case that does not verify."""
    with progress("replay --all", as_json=as_json):
        result = replay_store(engine.store, engine.registry, until)
    emit(as_json, result.as_dict(), result.lines())
    if not result.ok:
        for fault in result.broken:
            click.echo(f"BROKEN {fault}", err=True)
        click.echo(f"error: {len(result.broken)} case(s) do not verify", err=True)
        raise SystemExit(1)


def export_all_cmd(spec: EngineSpec, fmt: str, output: str | None, tolerance: timedelta,
                   checkpoint_file: str | None, pubkey: str | None) -> None:
    """Every case as JSON lines, to `output` or stdout, streamed."""
    from .audit_cmd import load_checkpoint

    if fmt != "json":
        raise click.BadParameter("--all writes JSON lines; export one CASE for csv, xlsx "
                                 "or html", param_hint="--format")
    cp = load_checkpoint(checkpoint_file, pubkey) if checkpoint_file else None
    engine = open_engine(spec, load_processes=False)
    target = (open(output, "w", encoding="utf-8", newline="") if output is not None  # noqa: SIM115
              else nullcontext(_Echo()))
    with target as out:
        summary = export_all(engine.store, out, tolerance, cp)
    if summary.unreadable:
        for u in summary.unreadable:
            click.echo(f"BROKEN case {u.case_id}: event {u.seq}: {u.why}", err=True)
        click.echo(f"error: {len(summary.unreadable)} stored event(s) could not be read and "
                   "are left out (listed in the end line)", err=True)
        raise SystemExit(1)


class _Echo:
    """stdout through click (its encoding handling, and CliRunner's capture in tests)."""

    def write(self, text: str) -> int:
        click.echo(text, nl=False)
        return len(text)


__all__ = ["export_all_cmd", "one_or_all", "replay_all_cmd"]
