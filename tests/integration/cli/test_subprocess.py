"""The README walk as a user types it: `python -m flowengine` in a fresh folder, real
processes, a real SQLite file, exit codes from the operating system."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import PROCESSES, ROOT


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_PROCESSES": str(PROCESSES)}
    env.pop("FLOWENGINE_DB", None)
    return subprocess.run([sys.executable, "-m", "flowengine", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def test_readme_walk(tmp_path: Path) -> None:
    r = _run(tmp_path, "case", "start", "standard_case", "--set", "petitioner=张三",
             "--set", "subject=噪音扰民", "--actor", "王芳", "--role", "clerk",
             "--at", "2026-03-02T09:00")
    assert r.returncode == 0, r.stderr
    case_id = r.stdout.strip()
    assert (tmp_path / "flowengine.db").exists()  # the default database in the cwd
    r = _run(tmp_path, "case", "fire", case_id, "accept", "--actor", "王芳", "--role", "clerk",
             "--at", "2026-03-03T09:00")
    assert r.returncode == 0 and "registered -> accepted" in r.stdout
    r = _run(tmp_path, "case", "fire", case_id, "close", "--role", "clerk")
    assert r.returncode == 2 and "not allowed in state 'accepted'" in r.stderr
    assert "Traceback" not in r.stderr
    r = _run(tmp_path, "tick", "--now", "2026-05-08T00:00", "--json")
    assert r.returncode == 0
    assert [f["deadlines"] for f in json.loads(r.stdout)["fired"]] == [
        ["handling: warning: due soon"],
        ["handling: overdue (still open past its due date)"]]
    r = _run(tmp_path, "replay", case_id)
    assert r.returncode == 0 and "ok: chain verified" in r.stdout
    r = _run(tmp_path, "audit", "verify")
    assert r.returncode == 0 and "1 case(s), 4 event(s) checked: all verified" in r.stdout
    r = _run(tmp_path, "export", case_id, "--format", "csv")
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 5
    r = _run(tmp_path, "case", "show", case_id, "--json")
    assert json.loads(r.stdout)["overdue"] is True


def test_worker_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_PROCESSES": str(PROCESSES),
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "flowengine", "worker", "--interval", "0.2"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once the signal handlers are in place
        assert first.startswith("worker started"), first
        time.sleep(0.5)  # a few ticks
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "worker stopped (signal) after" in out
    assert "Traceback" not in err
