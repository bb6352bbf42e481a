"""What a command line start imports (docs/cli.md, "Start-up"): commands that do not
validate definitions must not import the validator or jsonschema, and `--help` lists the
commands from `LAZY` without importing their modules. Not timed: bench/bench_cli.py
measures the time; these tests keep the imports from coming back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("jsonschema", "flowengine.definition.loader", "flowengine.definition.schema",
         "flowengine.definition.checks", "alembic")

# Runs the command line in-process, then prints which of HEAVY got imported.
PROBE = """
import json, sys
from flowengine.cli import main
sys.argv = ["flowengine", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
print("\\n@@" + json.dumps({"code": code,
      "loaded": [m for m in json.loads(sys.argv[2]) if m in sys.modules]}))
"""


def loaded_by(args: list[str], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")])}
    env.pop("FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD", None)  # the entry points as installed
    done = subprocess.run([sys.executable, "-c", PROBE.replace("sys.argv[2]", repr(
        json.dumps(list(heavy)))), json.dumps(args)], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=120)
    report = json.loads(done.stdout.rsplit("@@", 1)[1])
    assert report["code"] in (0, None), done.stdout + done.stderr
    return list(report["loaded"])


def test_help_imports_no_command_module_no_validator(tmp_path: Path) -> None:
    heavy = HEAVY + ("flowengine.cli.case_cmd", "flowengine.cli.ops_cmd",
                     "flowengine.engine.engine", "sqlalchemy")
    assert loaded_by(["--help"], tmp_path, heavy) == []


@pytest.fixture(scope="module")
def one_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    from flowengine import Actor, Engine

    db = f"sqlite:///{tmp_path_factory.mktemp('startup') / 'c.db'}"
    engine = Engine(db=db, processes=[ROOT / "processes"])
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "路灯不亮"},
                        actor=Actor("王芳", "clerk"))
    engine.store.close()  # type: ignore[attr-defined]
    return db, case.id


@pytest.mark.parametrize(("args", "heavy"), [
    (["case", "show"], HEAVY), (["case", "list"], HEAVY),
    (["db", "current"], HEAVY[:-1]),  # the schema commands are Alembic's
])
def test_store_reading_commands_do_not_import_the_validator(
        args: list[str], heavy: tuple[str, ...], one_case: tuple[str, str],
        tmp_path: Path) -> None:
    db, case_id = one_case
    argv = [*args, case_id, "--db", db] if args == ["case", "show"] else [*args, "--db", db]
    assert loaded_by(argv, tmp_path, heavy) == []


def test_case_show_does_not_import_the_report_or_export_packages(
        one_case: tuple[str, str], tmp_path: Path) -> None:
    """`flowengine.audit` imports its names on first use: reading a case's rows and timeline
    does not load the KPI report, the exports or their libraries."""
    db, case_id = one_case
    heavy = ("flowengine.audit.report", "flowengine.audit.export", "flowengine.audit.verify",
             "openpyxl", "pygal")
    assert loaded_by(["case", "show", case_id, "--db", db], tmp_path, heavy) == []


# What a command that only reads cases does not need (bench/bench_cli.py, "CLI start"): the
# PostgreSQL dialect (the partial indexes' `postgresql_where` used to load it on SQLite too),
# the engine's compiler and planner with the expression language, calendars and YAML (a
# case is shown from its stored rows), and the plugins found by entry points with their
# libraries (loaded when a hook is first dispatched).
NOT_FOR_READING = (
    "sqlalchemy.dialects.postgresql", "flowengine.engine.compiler", "flowengine.engine.planner",
    "flowengine.engine.registry", "flowengine.engine.data", "flowengine.definition.model",
    "transitions", "flowengine.expr", "flowengine.calendar", "yaml", "chinese_calendar",
    "flowengine.plugins.metrics", "prometheus_client", "flowengine_smtp", "smtplib",
    "flowengine_webhook", "flowengine_console", "flowengine_jsonl")


@pytest.mark.parametrize("args", [["case", "show"], ["case", "list"]])
def test_reading_a_case_imports_no_dialect_compiler_or_plugin(
        args: list[str], one_case: tuple[str, str], tmp_path: Path) -> None:
    db, case_id = one_case
    argv = [*args, case_id, "--db", db] if args == ["case", "show"] else [*args, "--db", db]
    assert loaded_by(argv, tmp_path, NOT_FOR_READING) == []


def test_starting_a_case_still_imports_the_planner_and_the_plugins(
        one_case: tuple[str, str], tmp_path: Path) -> None:
    """The probe sees these imports where they are used: a command that writes plans with
    the compiled definition and dispatches to the entry-point plugins (PostgreSQL's dialect
    stays out on SQLite; a copy of the database, already at the current schema)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(one_case[0].removeprefix("sqlite:///"), copy)
    db = f"sqlite:///{copy}"
    loaded = loaded_by(["case", "start", "standard_case", "--db", db, "--processes",
                        str(ROOT / "processes"), "--actor", "王芳", "--role", "clerk",
                        "--set", "petitioner=张三", "--set", "subject=路灯不亮"],
                       tmp_path, NOT_FOR_READING)
    assert set(loaded) == set(NOT_FOR_READING) - {"sqlalchemy.dialects.postgresql"}


def test_validate_still_imports_the_validator(tmp_path: Path) -> None:
    """The probe can see an import: the command that validates does load jsonschema."""
    loaded = loaded_by(["validate", str(ROOT / "processes" / "standard_case.yaml")], tmp_path)
    assert "jsonschema" in loaded and "flowengine.definition.loader" in loaded


def test_lazy_help_equals_the_commands_own_help() -> None:
    """`LAZY`'s summaries and modules are the commands' own: every command is in `LAZY`,
    defined in a module it names, and listed by `--help` with the words of its own help
    (at every width click may give it)."""
    from flowengine import cli as cli_module

    cli_module._register()
    assert set(cli_module.cli.commands) == set(cli_module.LAZY)
    for name, (modules, summary) in cli_module.LAZY.items():
        command = cli_module.cli.commands[name]
        assert command.callback is not None
        assert command.callback.__module__.rsplit(".", 1)[1] in modules, name
        placeholder = click.Command(name, help=summary)
        for limit in (20, 45, 60, 200):
            assert placeholder.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_migration_head_read_without_alembic_is_alembic_s_head() -> None:
    from flowengine.store import migrations

    assert migrations.file_head() == migrations.head()
