"""A poison case never stops the others: a case whose timers cannot be planned is named
on stderr (and under --json) against its id, left aside with back-off, and every other due
case fires; a start whose process condition cannot be evaluated is refused as bad data."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from flowengine import Actor, Engine
from flowengine.clock import parse_instant
from flowengine.errors import InvalidData

from .conftest import Cli

POISON = Path(__file__).resolve().parents[2] / "fixtures" / "poison"


def _start(cli: Cli, *extra: str) -> str:
    r = cli("case", "start", "poison", "--processes", str(POISON), "--actor", "a", "--role",
            "clerk", "--at", "2026-03-02T09:00", "--set", "name=x", *extra)
    assert r.code == 0, r.stderr
    return r.stdout.strip()


def test_tick_fires_every_other_case_and_names_the_poison_one(cli: Cli) -> None:
    good1 = _start(cli, "--set", "amount=5")
    poison = _start(cli)
    good2 = _start(cli, "--set", "amount=7")
    r = cli("tick", "--now", "2026-03-10T09:00", "--processes", str(POISON), "--json")
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    fired = {e["case"] for e in doc["fired"]}
    assert {good1, good2} <= fired and poison not in fired
    assert [f["case"] for f in doc["failed"]] == [poison]
    assert "amount is not set" in doc["failed"][0]["error"]
    assert f"warning: case {poison}: timers not run" in r.stderr
    assert "Traceback" not in r.stderr
    for case_id, state in ((good1, "late"), (good2, "late"), (poison, "open")):
        shown = cli("case", "show", case_id, "--json")
        assert json.loads(shown.stdout)["state"] == state
    again = cli("tick", "--now", "2026-03-10T09:00", "--processes", str(POISON), "--json")
    assert json.loads(again.stdout)["failed"] == []  # left aside until its retry time


def test_the_same_engine_backs_off_further_and_a_success_clears_a_failure() -> None:
    at = parse_instant("2026-03-02T09:00")
    engine = Engine(processes=[POISON])
    clerk = Actor("a", "clerk")
    poison = engine.start("poison", {"name": "x"}, actor=clerk, at=at).id
    other = engine.start("poison", {"name": "y", "amount": "3"}, actor=clerk, at=at).id
    engine.failures.record(other, ValueError("stale"), at)  # an old failure of `other`...
    now = parse_instant("2026-03-10T09:00")
    fired = engine.tick(now)
    assert {e.case_id for e in fired} == {other}
    assert other not in engine.failures.failures  # ...is cleared when its timers run
    first = engine.failures.failures[poison]
    assert (first.attempts, first.retry_at - now) == (1, timedelta(minutes=1))
    engine.tick(now + timedelta(seconds=30))
    assert engine.failures.failures[poison].attempts == 1  # not yet retried
    engine.tick(first.retry_at)
    second = engine.failures.failures[poison]
    assert (second.attempts, second.retry_at - first.retry_at) == (2, timedelta(minutes=2))
    with pytest.raises(InvalidData, match="amount is not set"):  # refused, not a crash
        engine.fire(poison, "finish", actor=clerk, at=second.retry_at)


@pytest.mark.parametrize("amount", [None, "5"])
def test_a_start_condition_that_cannot_be_evaluated_refuses_the_data(
        cli: Cli, tmp_path: Path, amount: str | None) -> None:
    text = (POISON / "poison.yaml").read_text("utf-8").replace(
        "    start: {enter: late}\n    unless:", "    start: {started: true}\n    unless:")
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "poison.yaml").write_text(text, encoding="utf-8")
    extra = ["--set", f"amount={amount}"] if amount else []
    r = cli("case", "start", "poison", "--processes", str(folder), "--actor", "a", "--role",
            "clerk", "--at", "2026-03-02T09:00", "--set", "name=x", *extra)
    if amount:
        assert r.code == 0 and r.stdout.strip().startswith("C")
        return
    assert r.code == 2 and r.stdout == ""
    assert "no case was created" in r.stderr and "amount is not set" in r.stderr
    assert "Traceback" not in r.stderr


def test_back_off_goes_on_across_tick_runs_and_operators_see_the_failure(
        cli: Cli, tmp_path: Path) -> None:
    """Each `tick` is a new process: the attempts are counted in the database, `case show`
    and `flowengine failures` name the failure, and a later success clears it."""
    folder = tmp_path / "fixable"
    folder.mkdir()
    (folder / "poison.yaml").write_text((POISON / "poison.yaml").read_text("utf-8").replace(
        "transitions:\n", "transitions:\n  - {trigger: set_amount, source: [open, late], "
        "dest: open, roles: [clerk], requires: [amount]}\n"), encoding="utf-8")
    r = cli("case", "start", "poison", "--processes", str(folder), "--actor", "a", "--role",
            "clerk", "--at", "2026-03-02T09:00", "--set", "name=x")
    assert r.code == 0, r.stderr
    poison = r.stdout.strip()
    tick = ("tick", "--processes", str(folder), "--json", "--now")
    first = json.loads(cli(*tick, "2026-03-10T09:00").stdout)["failed"]
    assert [(f["case"], f["attempts"]) for f in first] == [(poison, 1)]
    retry = parse_instant(first[0]["retry_at"])
    second = json.loads(cli(*tick, retry.isoformat()).stdout)["failed"]
    assert [(f["case"], f["attempts"], f["operation"]) for f in second] == [(poison, 2, "timers")]
    assert parse_instant(second[0]["retry_at"]) - retry == timedelta(minutes=2)

    listed = cli("failures", "--json")
    assert listed.code == 0, listed.stderr
    assert [(f["case"], f["attempts"]) for f in listed.json()["failures"]] == [(poison, 2)]
    text = cli("failures")
    assert text.stdout.startswith(f"{poison}: timers not run (") and "attempt 2" in text.stdout
    shown = cli("case", "show", poison, "--json").json()
    assert shown["failure"]["attempts"] == 2 and "amount is not set" in shown["failure"]["error"]
    assert "  failing: " in cli("case", "show", poison).stdout

    r = cli("case", "fire", poison, "set_amount", "--processes", str(folder), "--actor", "a",
            "--role", "clerk", "--at", "2026-03-03T10:00", "--set", "amount=4")
    assert r.code == 0, r.stderr  # the data is fixed: the next tick runs its timers
    third = json.loads(cli(*tick, "2026-03-10T11:00").stdout)
    assert third["failed"] == [] and poison in {e["case"] for e in third["fired"]}
    assert cli("failures", "--json").json() == {"failures": []}
    assert cli("failures").stdout == "no failing cases\n"
    assert cli("case", "show", poison, "--json").json()["failure"] is None


def test_a_failing_case_that_is_closed_leaves_the_list(cli: Cli) -> None:
    poison = _start(cli, "--set", "amount=5")
    engine = cli.engine()
    engine.failures.record(poison, ValueError("boom"), parse_instant("2026-03-03T09:00"))
    engine.store.close()  # type: ignore[attr-defined]
    assert [f["case"] for f in cli("failures", "--json").json()["failures"]] == [poison]
    r = cli("case", "fire", poison, "finish", "--processes", str(POISON), "--actor", "a",
            "--role", "clerk", "--at", "2026-03-03T10:00")
    assert r.code == 0, r.stderr
    assert cli("failures", "--json").json()["failures"] != []  # until a tick looks
    assert cli("tick", "--processes", str(POISON), "--now", "2026-03-03T11:00").code == 0
    assert cli("failures", "--json").json() == {"failures": []}


def test_a_failure_that_cannot_be_written_does_not_stop_the_tick() -> None:
    """The database refusing the failure row (busy) still leaves every other case fired."""
    from flowengine.store.errors import StoreBusy
    from flowengine.store.failures import CaseFailure, MemoryFailures

    class BusyBook(MemoryFailures):
        def put_failure(self, failure: CaseFailure) -> None:
            raise StoreBusy("the database is busy", 30.0)

    at = parse_instant("2026-03-02T09:00")
    engine = Engine(processes=[POISON])
    engine.failures.book = BusyBook()
    clerk = Actor("a", "clerk")
    poison = engine.start("poison", {"name": "x"}, actor=clerk, at=at).id
    other = engine.start("poison", {"name": "y", "amount": "3"}, actor=clerk, at=at).id
    fired = engine.tick(parse_instant("2026-03-10T09:00"))
    assert {e.case_id for e in fired} == {other}
    assert engine.failures.failures[poison].attempts == 1  # reported all the same


def test_back_off_goes_on_across_operating_system_processes(tmp_path: Path) -> None:
    """Two `python -m flowengine tick` processes, one after the other: the second counts
    attempt 2 and waits two minutes, as a long-running worker would."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}",
           "FLOWENGINE_DB": f"sqlite:///{tmp_path / 'cases.db'}",
           "FLOWENGINE_PROCESSES": str(POISON)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flowengine", *args], env=env, text=True,
                              capture_output=True, timeout=120, cwd=tmp_path)

    started = run("case", "start", "poison", "--set", "name=x", "--actor", "a", "--role",
                  "clerk", "--at", "2026-03-02T09:00")
    assert started.returncode == 0, started.stderr
    first = json.loads(run("tick", "--now", "2026-03-10T09:00", "--json").stdout)["failed"]
    second = json.loads(run("tick", "--now", first[0]["retry_at"], "--json").stdout)["failed"]
    assert [f["attempts"] for f in first + second] == [1, 2]
    waited = parse_instant(second[0]["retry_at"]) - parse_instant(first[0]["retry_at"])
    assert waited == timedelta(minutes=2)
