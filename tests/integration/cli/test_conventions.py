"""Command-line conventions: --version, -h, --quiet, NO_COLOR, shell completion, `case
start` printing only the id (a duplicate notice goes to stderr), and the demo run twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import Cli

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")])}


def test_version_and_short_help(cli: Cli) -> None:
    r = cli("--version")
    assert r.code == 0 and r.stdout.startswith("flowengine ") and r.stdout.split()[1][0].isdigit()
    for args in (("-h",), ("case", "start", "-h"), ("tick", "-h")):
        r = cli(*args)
        assert r.code == 0 and r.stdout.startswith("Usage: flowengine"), args


def test_duplicate_start_prints_only_the_id_on_stdout(cli: Cli) -> None:
    first = cli.start()
    r = cli("case", "start", "standard_case", "--set", "petitioner=张三", "--set",
            "subject=噪音扰民", "--actor", "王芳", "--role", "clerk", "--at", "2026-03-02T10:00")
    assert r.code == 0
    assert r.stdout.splitlines() == [r.stdout.strip()] and r.stdout.strip() != first
    assert f"duplicate (重信重访) of open case {first}" in r.stderr


def test_quiet_tick_prints_the_summary_only(cli: Cli) -> None:
    for day in range(2, 6):
        cli.start(petitioner=f"p{day}", at=f"2026-03-0{day}T09:00")
    r = cli("tick", "--now", "2026-12-31T09:00", "--quiet")
    assert r.code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith("timer event(s)") and int(lines[0].split()[0]) >= 4
    loud = cli("tick", "--now", "2026-12-31T09:00")
    assert loud.stdout.splitlines()[0] == "0 timer event(s)"


def test_no_color_turns_off_every_escape_code(tmp_path: Path) -> None:
    scenario = ROOT / "examples" / "county_three_step.scenario.yaml"
    cmd = [sys.executable, "-m", "flowengine", "simulate", str(scenario)]
    coloured = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                              env={**ENV, "FORCE_COLOR": "1"}, check=True)
    assert "\x1b[" in coloured.stdout
    plain = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env={**ENV, "FORCE_COLOR": "1", "NO_COLOR": "1"}, check=True)
    assert "\x1b[" not in plain.stdout and "ok: final state answered" in plain.stdout


def test_bash_completion_script_is_printed() -> None:
    r = subprocess.run([sys.executable, "-c", "from flowengine.cli import main; main()"],
                       capture_output=True, text=True, timeout=60,
                       env={**ENV, "_FLOWENGINE_COMPLETE": "bash_source"})
    assert r.returncode == 0 and "complete" in r.stdout and "_FLOWENGINE_COMPLETE" in r.stdout


def test_the_demo_runs_twice_in_a_row(tmp_path: Path) -> None:
    for name in ("examples", "processes", "calendars"):
        shutil.copytree(ROOT / name, tmp_path / name)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "flowengine").write_text(f"#!/bin/sh\nexec {sys.executable} -W error -m flowengine \"$@\"\n")
    (bindir / "flowengine").chmod(0o755)
    env = {**ENV, "PATH": f"{bindir}{os.pathsep}{ENV['PATH']}"}
    env.pop("FLOWENGINE_DB", None)
    for run in (1, 2):
        r = subprocess.run(["bash", "examples/demo.sh"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300, env=env)
        assert r.returncode == 0, (run, r.stderr[-2000:])
        assert "Traceback" not in r.stderr
    assert "flagged as a duplicate" in r.stderr
