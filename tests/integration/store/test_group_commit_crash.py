"""Durability of group commit under SIGKILL: a child process with four threads firing
through one `SqlStore(group_commit=True)` on a SQLite file (WAL, synchronous=FULL) is killed
mid-batch, four times, restarted on the same file each time. Every append whose call had
returned (the child reports it after the return) must be in the file, and the file must
verify: SQLite's integrity check, every case's chain and projection (the crash test's own
checks) and `flowengine audit verify`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, cast

from sqlalchemy import create_engine
from test_store_crash import check_store

from flowengine.store.sql import SqlStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KILLS = 4


def _lines(report: Path) -> list[str]:
    text = report.read_text() if report.exists() else ""
    return text.splitlines()[:-1] if not text.endswith("\n") else text.splitlines()


def run_and_kill(url: str, start_day: int, report: Path, more: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), *sys.path]),
           "FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    before = len(_lines(report))
    child = subprocess.Popen([sys.executable, str(HERE / "crash_group_child.py"), url,
                              str(ROOT / "processes"), str(start_day), str(report)],
                             env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    try:
        while len(_lines(report)) < before + more:
            if child.poll() is not None:
                raise AssertionError(f"the child stopped by itself: {cast(IO[bytes], child.stderr).read()!r}")
            assert time.monotonic() < deadline, "the child made no progress in 90 s"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL


def test_every_returned_fire_survives_sigkill_and_the_file_verifies(tmp_path: Path) -> None:
    path = tmp_path / "group.db"
    url = f"sqlite:///{path}"
    SqlStore(url).close()
    report = tmp_path / "returned.txt"
    for run in range(KILLS):
        run_and_kill(url, start_day=2 * run, report=report, more=80 + 37 * run)
    returned = {(case_id, int(seq)) for case_id, seq in
                (line.split() for line in _lines(report))}
    raw = create_engine(url)
    with raw.connect() as conn:
        stored = {(r[0], r[1]) for r in conn.exec_driver_sql("SELECT case_id, seq FROM events")}
    raw.dispose()
    assert len(returned) >= 80 * KILLS
    missing = returned - stored
    assert not missing, f"{len(missing)} returned appends are not in the file: {sorted(missing)[:5]}"
    store = SqlStore(url)
    try:
        check_store(store)
    finally:
        store.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")])}
    done = subprocess.run([sys.executable, "-m", "flowengine", "audit", "verify", "--db", url],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
