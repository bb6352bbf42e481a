"""`flowengine graph FILE`: the process as a Mermaid or Graphviz DOT diagram.

A definition with errors is refused (exit 2, its problems on stderr): a diagram of a
procedure the engine would not load would show arrows that do not exist. Warnings do
not stop the drawing.
"""

from __future__ import annotations

import click

from ..definition.loader import validate_file
from ..render import FORMATS, render
from . import cli


@cli.command("graph")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="mermaid",
              show_default=True, help="Diagram language.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the diagram to this file instead of stdout.")
def graph(file: str, fmt: str, output: str | None) -> None:
    """Draw FILE's states, triggers, guards and deadlines."""
    process, problems = validate_file(file)
    errors = [p for p in problems if p.severity == "error"]
    if process is None or errors:
        for p in errors or problems:
            click.echo(str(p), err=True)
        click.echo(f"{file}: not drawn; fix the errors above ('flowengine validate {file}')",
                   err=True)
        raise SystemExit(2)
    text = render(process, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    with open(output, "w", encoding="utf-8") as fh:
        fh.write(text)
    click.echo(f"wrote {output}", err=True)
