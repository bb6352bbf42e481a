"""`flowengine.cli.main` maps outcomes to exit codes in one place (spec/cli.md): a command's
`ctx.exit(code)`, usage errors (2), FlowengineError (its exit_code, message on stderr,
no traceback)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from flowengine.cli import cli, main
from flowengine.errors import CaseNotFound, RecordUnreadable, ReplayMismatch


@pytest.fixture
def command() -> Iterator[click.Group]:
    @click.command("exit-test")
    @click.argument("what")
    @click.pass_context
    def exit_test(ctx: click.Context, what: str) -> None:
        if what == "code3":
            ctx.exit(3)
        if what == "missing":
            raise CaseNotFound("C1")
        if what == "tampered":
            raise ReplayMismatch("C1", "state", "closed", "archived")

    cli.add_command(exit_test)
    yield cli
    cli.commands.pop("exit-test")


@pytest.mark.parametrize("args, code, stderr", [
    (["exit-test", "code3"], 3, ""),
    (["exit-test", "ok"], 0, ""),
    (["exit-test", "missing"], 2, "error: no case 'C1'"),
    (["exit-test", "tampered"], 1, "error: case C1: stored state"),
    (["exit-test"], 2, "Missing argument"),
    (["no-such-command"], 2, "No such command"),
])
def test_exit_codes(command: click.Group, capsys: pytest.CaptureFixture[str], args: list[str],
                    code: int, stderr: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == code
    err = capsys.readouterr().err
    assert stderr in err
    assert "Traceback" not in err


@pytest.mark.parametrize("exc", [
    CaseNotFound("C1"), RecordUnreadable("C1", "bad JSON"), RecordUnreadable(None, "bad JSON"),
])
def test_library_messages_name_no_cli_command(exc: Exception) -> None:
    """A host embedding the engine shows these messages to its own users: no CLI advice."""
    assert "flowengine" not in str(exc) and "--" not in str(exc)


def test_the_cli_adds_its_own_advice(command: click.Group,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["exit-test", "missing"])
    assert "error: no case 'C1'; 'flowengine case list' shows the cases" in capsys.readouterr().err


def test_schema_advice_only_when_the_revision_can_be_upgraded() -> None:
    from flowengine.cli.advice import with_advice
    from flowengine.store.errors import SchemaNotCurrent

    behind = SchemaNotCurrent("x.db has revision 0001", "sqlite:///x.db", upgradable=True)
    newer = SchemaNotCurrent("x.db has revision 9999", "sqlite:///x.db")
    assert with_advice(behind).endswith(": run flowengine db upgrade --db sqlite:///x.db")
    assert with_advice(newer) == "x.db has revision 9999"


def test_checkpoint_errors_get_the_advice_from_the_cli_only() -> None:
    from flowengine.audit.checkpoint_format import LogDiverged, LogUnreadable
    from flowengine.cli.advice import with_advice

    diverged = LogDiverged("the log no longer has the checkpoint's root")
    unreadable = LogUnreadable("cannot take a checkpoint: case C1 event 2: bad JSON")
    for exc in (diverged, unreadable):
        assert "flowengine" not in str(exc)
    assert with_advice(diverged).endswith("'flowengine audit verify --checkpoint FILE' names "
                                          "the first changed entry of each case")
    assert with_advice(unreadable).endswith("'flowengine audit verify' names every broken case")
