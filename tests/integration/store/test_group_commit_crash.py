"""Durability of group commit under SIGKILL: a child process with four threads firing
through one `SqlStore(group_commit=True)` on a SQLite file (WAL, synchronous=FULL) is killed
mid-batch, four times, restarted on the same file each time; then the same with two such
processes at once, sharing their flushes. Every append whose call had
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

import pytest
from sqlalchemy import create_engine
from test_store_crash import check_store

from flowengine.store.sql import SqlStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KILLS = 4


def _lines(report: Path) -> list[str]:
    text = report.read_text() if report.exists() else ""
    return text.splitlines()[:-1] if not text.endswith("\n") else text.splitlines()


def run_and_kill(url: str, start_day: int, reports: list[Path], more: int) -> None:
    """One child per report file, all on `url` at once; SIGKILL them all once each has
    reported `more` appends."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), *sys.path]),
           "FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    before = [len(_lines(report)) for report in reports]
    children = [subprocess.Popen([sys.executable, str(HERE / "crash_group_child.py"), url,
                                  str(ROOT / "processes"), str(start_day), str(report)],
                                 env=env, stderr=subprocess.PIPE) for report in reports]
    deadline = time.monotonic() + 90
    try:
        while any(len(_lines(report)) < n + more for report, n in zip(reports, before, strict=True)):
            for child in children:
                if child.poll() is not None:
                    raise AssertionError("a child stopped by itself: "
                                         f"{cast(IO[bytes], child.stderr).read()!r}")
            assert time.monotonic() < deadline, "the children made no progress in 90 s"
            time.sleep(0.005)
        for child in children:
            child.send_signal(signal.SIGKILL)
    finally:
        for child in children:
            child.kill()
            child.wait()
            if child.stderr:
                child.stderr.close()
    assert all(child.returncode == -signal.SIGKILL for child in children)


@pytest.mark.parametrize("processes", [1, 2])
def test_every_returned_fire_survives_sigkill_and_the_file_verifies(tmp_path: Path,
                                                                    processes: int) -> None:
    """With two processes the children also share their flushes (store/flush.py)."""
    path = tmp_path / "group.db"
    url = f"sqlite:///{path}"
    SqlStore(url).close()
    reports = [tmp_path / f"returned{i}.txt" for i in range(processes)]
    for run in range(KILLS):
        run_and_kill(url, start_day=2 * run, reports=reports, more=80 + 37 * run)
    returned = {(case_id, int(seq)) for report in reports for case_id, seq in
                (line.split() for line in _lines(report))}
    raw = create_engine(url)
    with raw.connect() as conn:
        stored = {(r[0], r[1]) for r in conn.exec_driver_sql("SELECT case_id, seq FROM events")}
    raw.dispose()
    assert len(returned) >= 80 * KILLS * processes
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
