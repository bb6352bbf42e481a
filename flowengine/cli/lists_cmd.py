"""`flowengine lists`: the duty lists (责任清单, 四个清单) the procedures declare, as text,
JSON, CSV, XLSX or printable HTML (tables_out.py). Read-only (`reading_engine_options`):
it never creates or writes a database.
"""

from __future__ import annotations

import click

from ..audit.lists import duty_lists, lists_json
from ..audit.replay import PinnedDefinitions
from ..audit.sheets import grid_lines
from ..errors import did_you_mean
from ..store.base import CaseQuery
from . import cli
from .common import EngineSpec, open_engine, reading_engine_options
from .tables_out import chosen_format, table_format_options, write_tables

_TITLE = {"zh": "责任清单", "en": "Duty lists"}


@cli.command("lists")
@click.option("--process", "process_id", metavar="PROCESS", help="Only this process.")
@click.option("--list", "only", metavar="NAME", multiple=True,
              help="Only the list of this YAML name, e.g. supervision (repeatable).")
@table_format_options
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True,
              help="Labels: the YAML's Chinese titles, or the names.")
@reading_engine_options
def lists_cmd(process_id: str | None, only: tuple[str, ...], fmt: str | None, as_json: bool, lang: str,
              output: str | None, spec: EngineSpec) -> None:
    """The duty lists of the stored cases (四个清单: 领导包案, 稳控, 化解, 督办责任清单),
    one row per case: the list's fields, state, next deadline and whether it is overdue."""
    fmt = chosen_format(fmt, as_json, output)
    engine = open_engine(spec, load_processes=False)
    definitions = PinnedDefinitions(engine.store, engine.registry)
    cases = engine.store.cases(CaseQuery(process_id=process_id))
    pairs = [(c, definitions.get(c.digest, c.id)) for c in cases]
    declared = {name for _, p in pairs for name in p.lists}
    unknown = [n for n in only if n not in declared]
    if unknown:
        hint = did_you_mean(unknown[0], declared)
        hint = f"; {hint}" if hint else ""
        raise click.UsageError(f"--list {unknown[0]}: no stored case's process declares this "
                               f"list{hint}; declared: {', '.join(sorted(declared)) or 'none'}")
    grids = duty_lists(pairs, lang, only)

    def text() -> str:
        blocks = ["\n".join(grid_lines(g)) for g in grids]
        return "\n\n".join(blocks) + "\n" if blocks else "no case is on any list\n"

    def html() -> str:
        from ..audit.html.tables import tables_html

        return tables_html(_TITLE[lang], grids, lang, kind="lists")

    write_tables(fmt, grids, output, doc=lambda: {"lists": lists_json(grids)}, text=text,
                 html=html)
