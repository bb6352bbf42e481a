"""Calendar files are pinned with the definition: a case computes with the calendar texts it
was started with, from any working directory, after the process YAML or its calendar file
is edited or deleted; `audit verify`, `replay`, `fire` and `tick` agree everywhere."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from flowengine.cli import main
from flowengine.definition.calendars import split_bundle
from flowengine.definition.loader import load_process

ROOT = Path(__file__).resolve().parents[2]

# A city's own day off on Tuesday 2026-03-17: 15 days from 2026-03-02 end on it, so the
# acceptance notice rolls to Wednesday 03-18 under this file (03-17 without it).
CITY = """\
name: 某市地方假日安排 (test)
holidays:
  - {date: 2026-03-17, name: 市庆日}
"""


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out + out.err


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, str]:
    procs = tmp_path / "procs"
    (procs / "calendars").mkdir(parents=True)
    (procs / "calendars" / "city.yaml").write_text(CITY, encoding="utf-8")
    text = (ROOT / "processes" / "standard_case.yaml").read_text(encoding="utf-8")
    (procs / "standard_case.yaml").write_text(
        text.replace("timezone: Asia/Shanghai\n",
                     "timezone: Asia/Shanghai\ncalendars: [calendars/city.yaml]\n"), encoding="utf-8")
    return tmp_path, procs, f"sqlite:///{tmp_path / 'cases.db'}"


def _acceptance_due(capsys: pytest.CaptureFixture[str], db: str, case_id: str) -> str:
    code, out = _cli(capsys, "case", "show", case_id, "--db", db, "--json")
    assert code == 0, out
    doc = json.loads(out)
    return next(d["due_date"] for d in doc["deadlines"] if d["name"] == "acceptance_notice")


def test_the_definition_text_carries_its_calendar_files(setup: tuple[Path, Path, str]) -> None:
    _, procs, _ = setup
    process = load_process(procs / "standard_case.yaml")
    text, calendars = split_bundle(process.source_text)
    assert calendars == (("calendars/city.yaml", CITY),)
    assert text == (procs / "standard_case.yaml").read_text(encoding="utf-8")
    (procs / "calendars" / "city.yaml").write_text(CITY.replace("03-17", "03-16"), encoding="utf-8")
    assert load_process(procs / "standard_case.yaml").digest != process.digest


def test_every_command_agrees_from_anywhere_after_edits(
        setup: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path, procs, db = setup
    monkeypatch.chdir(tmp_path)
    assert _cli(capsys, "db", "upgrade", "--db", db)[0] == 0
    code, out = _cli(capsys, "case", "start", "standard_case", "--db", db, "--processes", str(procs),
                     "--actor", "王芳", "--role", "clerk", "--at", "2026-03-02T09:00",
                     "--set", "petitioner=张三", "--set", "subject=路灯")
    assert code == 0, out
    case_id = out.split()[0]
    assert _acceptance_due(capsys, db, case_id) == "2026-03-18"

    # Edit the process (a new version) and empty the calendar file, then work elsewhere.
    (procs / "calendars" / "city.yaml").write_text("name: emptied\n", encoding="utf-8")
    yaml = procs / "standard_case.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("title: 登记", "title: 登记受理"),
                    encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for args in (("audit", "verify", "--db", db), ("replay", case_id, "--db", db)):
        code, out = _cli(capsys, *args)
        assert code == 0, out
    code, out = _cli(capsys, "case", "fire", case_id, "accept", "--db", db, "--processes", str(procs),
                     "--actor", "王芳", "--role", "clerk", "--at", "2026-03-16T10:00")
    assert code == 0, out
    assert _acceptance_due(capsys, db, case_id) == "2026-03-18"  # met; still the pinned day

    code, out = _cli(capsys, "tick", "--db", db, "--processes", str(procs), "--now", "2026-03-20T09:00")
    assert code == 0, out
    shutil.rmtree(procs / "calendars")  # even gone: the texts are in the database
    for args in (("audit", "verify", "--db", db), ("replay", case_id, "--db", db)):
        code, out = _cli(capsys, *args)
        assert code == 0, out


def test_a_second_engine_uses_the_pinned_calendar_not_the_file(setup: tuple[Path, Path, str]) -> None:
    from flowengine import Actor, Engine
    from flowengine.records.events import Event  # noqa: F401  (the engine's public record)

    _, procs, db = setup
    engine = Engine(db, processes=[procs])
    case = engine.start("standard_case", {"petitioner": "李四", "subject": "噪音"},
                        actor=Actor("王芳", "clerk"), at=_at("2026-03-02T09:00"))
    engine.store.close()  # type: ignore[attr-defined]
    (procs / "calendars" / "city.yaml").write_text("name: emptied\n", encoding="utf-8")
    fresh = Engine(db)  # no process folder at all: the pinned text is read from the store
    found = fresh.case(case.id)
    assert found.deadlines["acceptance_notice"].due_date == date(2026, 3, 18)
    fired = fresh.fire(case.id, "accept", actor=Actor("王芳", "clerk"), at=_at("2026-03-05T09:00"))
    assert fired.deadlines["acceptance_notice"].status == "met"


def _at(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
