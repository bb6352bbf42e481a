"""`flowengine validate FILE…`: every schema and semantic problem of process definitions.

Thin on purpose: `definition.loader.validate_file` does the work and returns `Problem`
values; this module prints them (`FILE:LINE:COL: severity CODE: message (hint)`, the
form editors and CI annotations understand) or one JSON document, and maps the result to
the exit code of the CLI spec: 0 no errors (warnings allowed unless `--strict`), 1 some
error, 2 a missing file or a bad option (click's usage error). Whatever the YAML holds,
the command reports it as problems and never shows a traceback.
"""

from __future__ import annotations

import json

import click

from ..definition.loader import validate_file
from ..errors import Location, Problem
from . import cli


def problems_of(path: str) -> list[Problem]:
    """Every problem of one file; an unexpected failure becomes an FE000 problem."""
    try:
        return validate_file(path)[1]
    except Exception as exc:  # noqa: BLE001 - validate must report, never crash
        return [Problem("FE000", f"internal error while validating: {type(exc).__name__}: "
                        f"{exc}", Location(path, 1, 1), hint="please report this with the file")]


def _fails(problems: list[Problem], strict: bool) -> bool:
    return any(p.severity == "error" or strict for p in problems)


def _summary(results: dict[str, list[Problem]]) -> str:
    errors = sum(p.severity == "error" for ps in results.values() for p in ps)
    warnings = sum(p.severity == "warning" for ps in results.values() for p in ps)
    return (f"{_plural(len(results), 'file')} checked: {_plural(errors, 'error')}, "
            f"{_plural(warnings, 'warning')}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--strict", is_flag=True, help="Count warnings as failures (exit 1).")
def validate(files: tuple[str, ...], as_json: bool, strict: bool) -> None:
    """Check process definitions; exit 1 when any has an error."""
    results = {path: problems_of(path) for path in dict.fromkeys(files)}
    ok = not any(_fails(ps, strict) for ps in results.values())
    if as_json:
        doc = {"files": [{"file": path, "ok": not _fails(ps, strict),
                          "problems": [p.as_dict() for p in ps]}
                         for path, ps in results.items()],
               "ok": ok}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
    else:
        for problems in results.values():
            for p in problems:
                click.echo(str(p))
        click.echo(_summary(results), err=True)
    if not ok:
        raise SystemExit(1)
