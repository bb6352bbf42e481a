"""`flowengine lists`: the duty lists (责任清单, 四个清单) the procedures declare, as text,
JSON or CSV. Read-only (`reading_engine_options`): it never creates or writes a database.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..audit.lists import duty_lists, lists_json
from ..audit.replay import PinnedDefinitions
from ..audit.sheets import csv_text, grid_lines
from ..store.base import CaseQuery
from . import cli
from .common import EngineSpec, open_engine, reading_engine_options


@cli.command("lists")
@click.option("--process", "process_id", metavar="PROCESS", help="Only this process.")
@click.option("--format", "fmt", type=click.Choice(("text", "json", "csv")), default=None,
              help="Output format (default text).")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True,
              help="Labels: the YAML's Chinese titles, or the names.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of stdout.")
@reading_engine_options
def lists_cmd(process_id: str | None, fmt: str | None, as_json: bool, lang: str,
              output: str | None, spec: EngineSpec) -> None:
    """The duty lists of the stored cases (five_step: 领导包案, 稳控, 化解, 督办责任清单),
    one row per case: the list's fields, state, next deadline and whether it is overdue."""
    if as_json and fmt not in (None, "json"):
        raise click.BadParameter(f"--json and --format {fmt} disagree; give one",
                                 param_hint="--format")
    fmt = "json" if as_json else (fmt or "text")
    engine = open_engine(spec, load_processes=False)
    definitions = PinnedDefinitions(engine.store, engine.registry)
    cases = engine.store.cases(CaseQuery(process_id=process_id))
    grids = duty_lists(((c, definitions.get(c.digest, c.id)) for c in cases), lang)
    if fmt == "json":
        text = json.dumps({"lists": lists_json(grids)}, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "csv":
        text = csv_text(grids)
    else:
        blocks = ["\n".join(grid_lines(g)) for g in grids]
        text = "\n\n".join(blocks) + "\n" if blocks else "no case is on any list\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8", newline="")
