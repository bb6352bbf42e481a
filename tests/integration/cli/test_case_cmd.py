"""`flowengine case start|fire|show|list` on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Cli, walk

PROCESSES = Path(__file__).resolve().parents[3] / "processes"


def test_start_prints_the_id_and_show_shows_it(cli: Cli) -> None:
    case_id = cli.start()
    assert case_id.startswith("C")
    r = cli("case", "show", case_id)
    assert r.code == 0
    assert f"{case_id} standard_case: registered" in r.stdout
    assert "petitioner: 张三" in r.stdout
    assert "acceptance_notice: open, due 2026-03-17" in r.stdout
    assert "started the case" in r.stdout
    assert cli.db.exists()


def test_show_json_is_one_document(cli: Cli) -> None:
    case_id = cli.start()
    cli.fire(case_id, "accept", at="2026-03-03T09:00")
    doc = cli("case", "show", case_id, "--json").json()
    assert doc["state"] == "accepted" and doc["seq"] == 2
    assert doc["created_at"] == "2026-03-02T09:00:00+08:00"
    handling = next(d for d in doc["deadlines"] if d["name"] == "handling")
    assert (handling["status"], handling["due_date"]) == ("open", "2026-05-06")
    assert [h["what"] for h in doc["history"]] == ["started the case", "fired accept"]


def test_fire_walks_a_case_to_closed(cli: Cli) -> None:
    case_id = cli.start()
    walk(cli, case_id)
    doc = cli("case", "show", case_id, "--json").json()
    assert doc["state"] == "closed"
    assert doc["data"]["sealed"] is True and doc["data"]["result"] == "supported"


def test_a_rejected_trigger_exits_2_with_reasons_and_changes_nothing(cli: Cli) -> None:
    case_id = cli.start()
    r = cli.fire(case_id, "accept", role="bureau", at="2026-03-03T09:00")
    assert r.code == 2 and r.stdout == ""
    assert f"case {case_id}: 'accept' rejected in state 'registered'" in r.stderr
    assert "role: needs the role clerk or office_director" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli.fire(case_id, "close", "--json", at="2026-03-03T09:00")
    assert r.code == 2
    assert r.json()["reasons"][0]["check"] == "state"
    assert cli("case", "show", case_id, "--json").json()["seq"] == 1


def test_usage_errors_exit_2_without_traceback(cli: Cli) -> None:
    case_id = cli.start()
    cases = [
        ("case", "show", "C-nope"),
        ("case", "fire", case_id, "accept", "--data", "{not json"),
        ("case", "fire", case_id, "accept", "--data", "[1]"),
        ("case", "fire", case_id, "accept", "--set", "novalue"),
        ("case", "fire", case_id, "accept", "--at", "yesterday"),
        ("case", "fire", case_id, "accept", "--at", "2026-03-01T09:00"),  # before its events
        ("case", "start", "no_such_process"),
        ("case", "start", "standard_case", "--set", "petitioner=x", "--set", "subject=y",
         "--set", "bogus=1", "--role", "clerk", "--at", "2026-03-02T09:00"),
        ("case", "list", "--plugin", "nonexistent_module_xyz:plugin"),
        ("case", "list", "--plugin", "nocolon"),
    ]
    for args in cases:
        r = cli(*args)
        assert r.code == 2, (args, r)
        assert "Traceback" not in r.stderr and "rror" in r.stderr, args


def test_start_rejected_for_missing_data(cli: Cli) -> None:
    r = cli("case", "start", "standard_case", "--set", "petitioner=张三", "--role", "clerk",
            "--at", "2026-03-02T09:00")
    assert r.code == 2 and "missing data: subject" in r.stderr


def test_the_library_message_has_no_cli_advice_the_cli_adds_it(cli: Cli, tmp_path: Path) -> None:
    """The Python API names the missing fields (and `Rejection.missing`), never a CLI option;
    the CLI, in text and JSON, adds how to give them, as it always did."""
    from flowengine import Actor, Engine, TriggerRejected

    engine = Engine(processes=[PROCESSES])
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"},
                        actor=Actor("王芳", "clerk"))
    engine.fire(case.id, "accept", actor=Actor("王芳", "clerk"))
    engine.fire(case.id, "investigate", actor=Actor("王芳", "clerk"))
    with pytest.raises(TriggerRejected) as caught:
        engine.fire(case.id, "assign", actor=Actor("王芳", "clerk"))
    required = [r for r in caught.value.reasons if r.check == "required"]
    assert required and all("--set" not in r.message for r in caught.value.reasons)
    assert required[0].missing and "--set" not in str(caught.value)
    started = cli("case", "start", "standard_case", "--set", "petitioner=张三", "--set",
                  "subject=噪音", "--role", "clerk", "--at", "2026-03-02T09:00")
    cid = started.stdout.strip()
    for hour, trigger in ((10, "accept"), (10, "investigate")):
        assert cli("case", "fire", cid, trigger, "--role", "clerk", "--at",
                   f"2026-03-02T{hour}:00").code == 0
    r = cli("case", "fire", cid, "assign", "--role", "clerk", "--at", "2026-03-02T11:00",
            "--json")
    listing = ", ".join(required[0].missing)
    given = " ".join(f"--set {m}=…" for m in required[0].missing)
    assert r.code == 2 and f"{listing} (give {given})" in r.stderr
    assert f"(give {given})" in json.loads(r.stdout)["reasons"][0]["message"]


def test_set_wins_over_data(cli: Cli) -> None:
    r = cli("case", "start", "standard_case", "--data", '{"petitioner": "甲", "subject": "s"}',
            "--set", "petitioner=乙", "--role", "clerk", "--at", "2026-03-02T09:00", "--json")
    assert r.code == 0 and r.json()["data"]["petitioner"] == "乙"


def test_duplicates_are_linked_both_ways(cli: Cli) -> None:
    first = cli.start()
    r = cli("case", "start", "standard_case", "--set", "petitioner=张三", "--set",
            "subject=噪音扰民", "--role", "clerk", "--at", "2026-03-05T09:00")
    second = r.stdout.splitlines()[0]
    assert r.stdout == f"{second}\n"  # only the id: `id=$(flowengine case start …)`
    assert f"duplicate (重信重访) of open case {first}" in r.stderr
    assert cli("case", "show", second, "--json").json()["duplicate_of"] == first
    shown = cli("case", "show", first)
    assert f"duplicates of this case (重信重访): {second}" in shown.stdout
    assert cli("case", "show", first, "--json").json()["duplicates"] == [second]


def test_list_filters(cli: Cli) -> None:
    a = cli.start(petitioner="甲")
    b = cli.start(petitioner="乙")
    cli.fire(b, "accept", at="2026-03-03T09:00")
    assert {c["id"] for c in cli("case", "list", "--json").json()["cases"]} == {a, b}
    assert [c["id"] for c in cli("case", "list", "--state", "accepted", "--json").json()["cases"]
            ] == [b]
    assert cli("case", "list", "--process", "medical_dispute", "--json").json() == {"cases": []}
    assert cli("case", "list", "--overdue").stdout.strip() == "no cases"
    cli("tick", "--now", "2026-04-01T00:00")
    overdue = cli("case", "list", "--overdue", "--json").json()["cases"]
    assert [c["id"] for c in overdue] == [a]
    assert overdue[0]["open_deadlines"][0] == {"name": "acceptance_notice", "status": "overdue",
                                               "due": "2026-03-17"}


def test_a_database_from_another_schema_is_an_input_error(cli: Cli) -> None:
    import sqlite3

    case_id = cli.start()
    con = sqlite3.connect(cli.db)
    con.execute("ALTER TABLE cases RENAME COLUMN state TO status")
    con.close()
    for args in (("case", "show", case_id), ("replay", case_id), ("audit", "verify")):
        r = cli(*args)
        assert r.code == 2, (args, r)
        assert "error: database sqlite:///" in r.stderr and "Traceback" not in r.stderr
        # what happened, and no `db upgrade` advice: the schema revision is the current one
        assert "no such column" in r.stderr and "db upgrade" not in r.stderr, r.stderr
