"""A process folder may hold scenario and calendar files beside the procedures, and one
broken file must not stop the others: it is reported once, quickly; two files with one id
are an error (FE109)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from flowengine import Actor, Engine
from flowengine.cli import main
from flowengine.errors import ProcessNotFound

ROOT = Path(__file__).resolve().parents[3]
BOMB = "\n".join(['a0: &a0 ["x","x","x","x","x","x","x","x","x"]'] + [
    f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]) + "\nid: bomb\n"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "procs"
    folder.mkdir()
    for p in (ROOT / "processes").glob("*.yaml"):
        shutil.copy(p, folder)
    shutil.copy(ROOT / "examples" / "county_three_step.scenario.yaml", folder)
    shutil.copy(ROOT / "calendars" / "cn-2027.yaml", folder / "cn-2027.yaml")
    (folder / "extra-2028.yaml").write_text("covers: [2028]\nholidays: []\n", encoding="utf-8")
    (folder / "calendars").mkdir()
    (folder / "calendars" / "junk.yaml").write_text("not: [a process", encoding="utf-8")
    return folder


def test_scenario_and_calendar_files_beside_the_procedures_are_skipped(tmp_path: Path) -> None:
    engine = Engine(processes=[_folder(tmp_path)])
    assert sorted(engine.registry.ids()) == ["five_step", "medical_dispute", "standard_case"]
    assert engine.registry.broken == {}


def test_shipped_examples_folder_loads(tmp_path: Path) -> None:
    engine = Engine(processes=[ROOT / "examples"])
    assert list(engine.registry.ids()) and engine.registry.broken == {}


@pytest.mark.parametrize("name, text, code", [
    ("zz_broken.yaml", "id: broken\nstates: [\n", "FE100"),
    ("zz_bomb.yaml", BOMB, "FE100"),
    ("zz_wide.yaml", "id: wide\nstates: {a: {initial: true}}\ntransitions: []\n", "FE107"),
])
def test_one_broken_file_leaves_the_others_working(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    name: str, text: str, code: str) -> None:
    folder = _folder(tmp_path)
    (folder / name).write_text(text, encoding="utf-8")
    began = time.monotonic()
    with pytest.raises(SystemExit) as exited:
        main(["case", "start", "standard_case", "--processes", str(folder),
              "--db", f"sqlite:///{tmp_path / 'c.db'}", "--actor", "王芳", "--role", "clerk",
              "--at", "2026-03-02T09:00", "--set", "petitioner=张三", "--set", "subject=噪音"])
    assert time.monotonic() - began < 10
    out, err = capsys.readouterr()
    assert exited.value.code == 0, err
    assert out.strip().startswith("C") and len(out.split()) == 1
    assert err.count(f"{folder / name} was not loaded") == 1
    assert f" error {code}:" in err
    assert "Traceback" not in err


def test_two_files_with_one_id_are_both_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    shutil.copy(folder / "five_step.yaml", folder / "five_step_copy.yaml")
    engine = Engine(processes=[folder])
    assert "five_step" not in engine.registry.ids()
    problems = {f: [p.code for p in e.problems] for f, e in engine.registry.broken.items()}
    assert problems == {str(folder / "five_step.yaml"): ["FE109"],
                        str(folder / "five_step_copy.yaml"): ["FE109"]}
    with pytest.raises(ProcessNotFound, match="five_step_copy.yaml"):
        engine.start("five_step", {}, actor=Actor("王芳", "clerk"))
    engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"},
                 actor=Actor("王芳", "clerk"))
