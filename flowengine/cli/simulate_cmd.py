"""`flowengine simulate SCENARIO…`: run scenario files on an in-memory store and a simulated
clock; print a readable timeline (rich) or, with `--json`, one JSON document."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ..simulate import ScenarioResult, run_scenario
from . import cli, terminal


@cli.command("simulate")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--processes", "processes", multiple=True, envvar="FLOWENGINE_PROCESSES",
              help="Folder of process YAML files for scenarios that name a process id.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def simulate(scenarios: tuple[str, ...], processes: tuple[str, ...], as_json: bool) -> None:
    """Run scenario files; exit 1 when an expectation fails."""
    folders = list(processes) or ["processes"]
    results = [run_scenario(path, folders) for path in scenarios]
    ok = all(r.ok for r in results)
    if as_json:
        doc = {"scenarios": [r.as_dict() for r in results], "ok": ok}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1, default=str))
    else:
        console = terminal.console(width=max(terminal.console().width, 110))
        for r in results:
            _print(console, r)
        passed = sum(r.ok for r in results)
        console.print(f"{passed} passed, {len(results) - passed} failed")
    if not ok:
        raise SystemExit(1)


def _when(at: datetime) -> str:
    """Local wall time as the office reads it (the instant's own offset)."""
    return at.strftime("%Y-%m-%d %H:%M")


def _due(effect: Any) -> str:
    if not effect.get("due_date"):
        return ""
    years = effect.get("provisional")
    note = f", PROVISIONAL ({', '.join(map(str, years))} calendar)" if years else ""
    return f" (due {effect['due_date']}{note})"


def _print(console: Console, r: ScenarioResult) -> None:
    table = Table(title=os.path.relpath(r.file), title_justify="left", show_lines=False)
    for col in ("at", "who", "what", "state", "deadlines / notices"):
        table.add_column(col)
    for row in r.timeline:
        if "rejected" in row:
            table.add_row(_when(row["at"]), "", f"✗ {row['rejected']}",
                          "", row["why"].split(": ", 2)[-1])
            continue
        e = row["event"]
        what = e.trigger or e.type
        state = f"{e.source} → {e.dest}" if e.source and e.source != e.dest else (e.dest or "")
        marks = [f"{x['deadline']} {x['op']}" + _due(x) for x in e.effects]
        marks += [f"✉ {n['kind']}" + (f" → {', '.join(n['to'])}" if n.get("to") else "")
                  for n in e.notifications]
        table.add_row(_when(e.at), e.actor.name, what, state, "\n".join(marks))
    console.print(table)
    for failure in r.failures:
        console.print(f"  [red]FAIL[/red] {failure}")
    console.print(f"  {'[green]ok[/green]' if r.ok else '[red]failed[/red]'}: final state {r.state}\n")
