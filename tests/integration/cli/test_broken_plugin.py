"""A broken entry-point plugin on the command line (a real interpreter, as a shell runs it,
so the warning reaches stderr through logging): the commands that write, deliver or list
the plugins report it with the same message as when every command loaded the plugins at
start; a command that only reads cases does not load them, so it says nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MESSAGE = "plugin broken failed in load: ImportError: half installed (entry point fe_broken_mod)"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path, str]:
    """A distribution whose plugin cannot be imported, and a database with one case."""
    folder = tmp_path_factory.mktemp("broken_plugin")
    (folder / "fe_broken_mod.py").write_text("raise ImportError('half installed')\n")
    info = folder / "fe_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fe-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[flowengine.plugins]\nbroken = fe_broken_mod\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), str(ROOT / "plugins"), str(folder)]), "FLOWENGINE_ACTOR": "王芳",
        "FLOWENGINE_ROLE": "clerk", "FLOWENGINE_PROCESSES": str(ROOT / "processes")}
    env.pop("FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD", None)
    env.pop("FLOWENGINE_NOTIFY_CONFIG", None)
    db = folder / "cases.db"
    done = _run(env, folder, "case", "start", "standard_case", "--db", f"sqlite:///{db}",
                "--set", "petitioner=张三", "--set", "subject=路灯不亮")
    assert done.returncode == 0 and MESSAGE in done.stderr, done.stderr
    return env, db, done.stdout.split()[0]


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowengine", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("case", "fire", "{case}", "accept"), ("tick",),
                                  ("notifications", "deliver")])
def test_commands_that_write_or_deliver_report_the_broken_plugin(
        setup: tuple[dict[str, str], Path, str], tmp_path: Path, args: tuple[str, ...]) -> None:
    env, db, case_id = setup
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)
    done = _run(env, tmp_path, *(a.format(case=case_id) for a in args), "--db",
                f"sqlite:///{copy}")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(MESSAGE) == 1, done.stderr


def test_plugins_lists_the_failure(setup: tuple[dict[str, str], Path, str],
                                   tmp_path: Path) -> None:
    done = _run(setup[0], tmp_path, "plugins")
    assert done.returncode == 0
    assert "error: plugin broken failed in load: ImportError: half installed" in done.stdout


def test_a_command_that_only_reads_cases_does_not_load_the_plugins(
        setup: tuple[dict[str, str], Path, str], tmp_path: Path) -> None:
    env, db, case_id = setup
    for args in (("case", "show", case_id), ("case", "list")):
        done = _run(env, tmp_path, *args, "--db", f"sqlite:///{db}")
        assert done.returncode == 0 and case_id in done.stdout
        assert done.stderr == "", done.stderr
