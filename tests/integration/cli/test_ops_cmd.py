"""`flowengine tick|worker|replay|audit verify|export` on a real SQLite file."""

from __future__ import annotations

import csv
import io

from .conftest import Cli, walk_api


def test_tick_fires_due_timers_once(cli: Cli) -> None:
    case_id = cli.start()
    r = cli("tick", "--now", "2026-03-18T00:00", "--json")
    assert r.code == 0
    fired = r.json()["fired"]
    assert [(f["case"], f["seq"], f["deadlines"]) for f in fired] == [
        (case_id, 2, ["acceptance_notice: overdue (still open past its due date)"])]
    again = cli("tick", "--now", "2026-03-18T00:00", "--json")
    assert again.json()["fired"] == []
    assert "0 timer event(s)" in cli("tick", "--now", "2026-03-19T00:00").stdout


def test_worker_stops_after_max_ticks(cli: Cli) -> None:
    cli.start(at="2020-01-06T09:00")  # long overdue by the wall clock
    r = cli("worker", "--interval", "0", "--max-ticks", "2", "--json")
    assert r.code == 0
    assert r.json() == {"ticks": 2, "fired": 1, "stopped_by": "max-ticks", "checkpoints": 0}


def test_replay_prints_the_timeline_and_verifies(cli: Cli) -> None:
    case_id = cli.start()
    walk_api(cli, case_id)
    r = cli("replay", case_id)
    assert r.code == 0, r.stderr
    assert "#2 2026-03-03T10:00:00+08:00 王芳 (clerk): fired accept registered -> accepted" in r.stdout
    assert "acceptance_notice: met on time (due 2026-03-17)" in r.stdout
    assert r.stdout.rstrip().endswith("ok: chain verified; replay equals the stored case")
    doc = cli("replay", case_id, "--json").json()
    assert doc["ok"] and doc["compared"] and doc["state"] == "closed"
    assert len(doc["timeline"]) == 10


def test_replay_until_shows_the_case_as_it_stood(cli: Cli) -> None:
    case_id = cli.start()
    walk_api(cli, case_id)
    doc = cli("replay", case_id, "--until", "2026-03-05T12:00", "--json").json()
    assert (doc["state"], doc["folded"], doc["events"]) == ("investigating", 4, 10)
    assert doc["ok"] and not doc["compared"]
    assert doc["data"]["department"] == "城管局" and "findings" not in doc["data"]


def test_replay_of_an_unknown_case_exits_2(cli: Cli) -> None:
    cli.start()
    r = cli("replay", "C-nope")
    assert r.code == 2 and "no case 'C-nope'" in r.stderr


def test_audit_verify_passes_on_an_untouched_database(cli: Cli) -> None:
    a = cli.start(petitioner="甲")
    walk_api(cli, a)
    cli.start(petitioner="乙")
    r = cli("audit", "verify")
    assert r.code == 0
    assert "2 case(s), 11 event(s) checked: all verified" in r.stdout
    doc = cli("audit", "verify", "--json").json()
    assert {k: doc[k] for k in ("ok", "cases", "events", "broken", "broken_definitions")} == {
        "ok": True, "cases": 2, "events": 11, "broken": [], "broken_definitions": []}


def test_export_json_and_csv(cli: Cli) -> None:
    case_id = cli.start()
    walk_api(cli, case_id)
    doc = cli("export", case_id, "--format", "json").json()
    assert [e["seq"] for e in doc["events"]] == list(range(1, 11))
    text = cli("export", case_id, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[-1]["trigger"] == "close" and rows[-1]["dest"] == "closed"
    r = cli("export", case_id, "--format", "csv", "-o", str(cli.folder / "h.csv"))
    assert r.code == 0 and r.stdout == ""
    assert (cli.folder / "h.csv").read_text(encoding="utf-8").startswith("\ufeffcase,seq,at")
    assert cli("export", case_id, "--format", "xml").code == 2
