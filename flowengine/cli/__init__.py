"""The `flowengine` command line: a thin click layer over the public API.

Each command group lives in its own module, imported only when one of its commands runs
(`LazyGroup`): `flowengine --help` and commands that read the store do not pay for the
definition validator, jsonschema or the modules of the other commands (bench/bench_cli.py).
Errors are mapped to exit codes in one place (`main`): a `FlowengineError` prints its
message on stderr and exits with its `exit_code`; nothing prints a traceback unless
`--debug` is given.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

from ..errors import FlowengineError

# Top-level command -> (the modules that define it and its subcommands, the first paragraph
# of its help, shown by `flowengine --help` without importing the modules). A test checks
# both against the commands themselves.
LAZY: dict[str, tuple[tuple[str, ...], str]] = {
    "audit": (("ops_cmd", "audit_cmd"), "Check the stored histories."),
    "calendar": (("calendar_cmd",), "Working days, holidays and statutory due dates "
                 "(national data, provisional years, files)."),
    "case": (("case_cmd",), "Start cases, fire triggers, show and list cases."),
    "db": (("db_cmd",), "The database's schema: which revision it has, and upgrading it."),
    "export": (("ops_cmd",), "The history of CASE as JSON, CSV (UTF-8 with a BOM), an Excel "
               "file or the auditor's printable timeline (html), with each event's recorded "
               "time and whether it was backdated; --all: every case as JSON lines."),
    "failures": (("failures_cmd",), "List the cases whose timers failed in tick/worker (or "
                 "whose calendar recount failed), the soonest retried first; a case leaves "
                 "the list when it next succeeds."),
    "graph": (("graph_cmd",), "Draw FILE's states, triggers, guards and deadlines."),
    "lists": (("lists_cmd",), "The duty lists of the stored cases (四个清单: 领导包案, 稳控, "
              "化解, 督办责任清单), one row per case: the list's fields, state, next deadline "
              "and whether it is overdue."),
    "notifications": (("plugins_cmd",), "The outbox: list, retry and deliver notifications."),
    "plugins": (("plugins_cmd",), "List the loaded plugins, where each comes from, its hooks "
                "and channels."),
    "replay": (("ops_cmd",), "Rebuild CASE from its events, check its chain and compare with "
               "the stored case (--all: every case, summarised by process and state)."),
    "report": (("report_cmd",), "KPIs (立案率, 结案率, 及时受理率, 按期答复率, 按期办结率, "
               "满意率, 重信重访率, extensions) and counts by dimension; docs/audit.md defines "
               "each figure."),
    "simulate": (("simulate_cmd",), "Run scenario files; exit 1 when an expectation fails."),
    "tick": (("ops_cmd",), "Fire every timer that is due, then deliver the notifications that "
             "are due; a second tick at the same time does nothing."),
    "validate": (("validate_cmd",), "Check process definitions; exit 1 when any has an error."),
    "worker": (("ops_cmd",), "Run `tick` (timers, then notification delivery) in a loop until "
               "SIGTERM/SIGINT (or --max-ticks)."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use. A command module missing from
    `LAZY` is still found: it is imported before any command is looked up."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        _import_unlisted()
        return sorted(set(self.commands) | set(LAZY))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _import_unlisted()
        if cmd_name not in self.commands and cmd_name in LAZY:
            modules, summary = LAZY[cmd_name]
            if self._listing:  # --help: the summary is enough
                return click.Command(cmd_name, help=summary)
            for module in modules:
                import_module(f"{__name__}.{module}")
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    """Import every command module now (tests that inspect `cli.commands`)."""
    for name in COMMAND_MODULES:
        import_module(f"{__name__}.{name}")


def _import_unlisted() -> None:
    """Import the command modules `LAZY` does not name (their commands are unknown to it)."""
    named = {m for modules, _ in LAZY.values() for m in modules}
    for name in COMMAND_MODULES:
        if name not in named:
            import_module(f"{__name__}.{name}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
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
