"""The file formats a table-printing command offers (`lists`, `notifications list`): text,
JSON, CSV (UTF-8 with a BOM), XLSX and printable HTML, written to stdout or `--output`.

Why one module: every command that prints rows must offer the same formats with the same
rules (xlsx needs a file name, `--json` and `--format` must agree, CSV and XLSX cells from
case data never become formulas), so the rules live once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from ..audit.sheets import Grid, csv_text

TABLE_FORMATS = ("text", "json", "csv", "xlsx", "html")
F = TypeVar("F", bound=Callable[..., Any])


def table_format_options(func: F) -> F:
    """--format, --json, --output; the command receives fmt, as_json, output."""
    func = click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
                        default=None, help="Write to this file instead of stdout.")(func)
    func = click.option("--json", "as_json", is_flag=True,
                        help="The same as --format json.")(func)
    return click.option("--format", "fmt", type=click.Choice(TABLE_FORMATS), default=None,
                        help="Output format (default text; xlsx needs --output; html is "
                             "one printable page).")(func)


def chosen_format(fmt: str | None, as_json: bool, output: str | None) -> str:
    """The format asked for; a usage error (exit 2) before anything is read."""
    if as_json and fmt not in (None, "json"):
        raise click.BadParameter(f"--json and --format {fmt} disagree; give one",
                                 param_hint="--format")
    fmt = "json" if as_json else (fmt or "text")
    if fmt == "xlsx" and output is None:
        raise click.BadParameter("an Excel file needs a file name: --output FILE.xlsx",
                                 param_hint="--format")
    return fmt


def write_tables(fmt: str, grids: Sequence[Grid], output: str | None, *,
                 doc: Callable[[], Any], text: Callable[[], str],
                 html: Callable[[], str]) -> None:
    """Write the grids in `fmt`: `doc` gives the JSON document, `text` the terminal text
    and `html` the page (each built only when asked for)."""
    if fmt == "xlsx":
        from ..audit.sheets import write_xlsx

        assert output is not None
        write_xlsx(grids, output)
        return
    if fmt == "json":
        out = json.dumps(doc(), ensure_ascii=False, indent=2, default=str) + "\n"
    elif fmt == "csv":
        out = csv_text(grids)
    elif fmt == "html":
        out = html()
    else:
        out = text()
    if output is None:
        click.echo(out, nl=False)
    else:
        Path(output).write_text(out, encoding="utf-8", newline="")


__all__ = ["TABLE_FORMATS", "chosen_format", "table_format_options", "write_tables"]
