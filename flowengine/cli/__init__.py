"""The `flowengine` command line: a thin click layer over the public API.

Each command group lives in its own module and is registered here. Errors are mapped to
exit codes in one place (`main`): a `FlowengineError` prints its message on stderr and
exits with its `exit_code`; nothing prints a traceback unless `--debug` is given.
"""

from __future__ import annotations

import sys

import click

from ..errors import FlowengineError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flowengine", prog_name="flowengine",
                      message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """flowengine: run petition and complaint procedures defined in YAML."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


COMMAND_MODULES = ("calendar_cmd", "simulate_cmd", "validate_cmd", "graph_cmd", "case_cmd",
                   "ops_cmd", "audit_cmd", "report_cmd", "plugins_cmd", "db_cmd", "lists_cmd",
                   "failures_cmd")


def _register() -> None:
    """Import the command modules; each adds its commands to `cli`."""
    from importlib import import_module

    for name in COMMAND_MODULES:
        import_module(f"{__name__}.{name}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # Not standalone: click then returns the code of `ctx.exit(code)` instead of exiting.
        code = cli.main(args=argv, prog_name="flowengine", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except FlowengineError as exc:
        if debug:
            raise
        from .advice import with_advice

        click.echo(f"error: {with_advice(exc)}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
