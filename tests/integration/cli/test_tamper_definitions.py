"""An edited stored definition text (60 days -> 90) no longer matches its digest: `audit
verify` names the definition and every case pinned to it, and `replay` and a fire on such
a case are refused with an error naming the case and the digest (never an AssertionError).
The database is changed with plain SQL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.support.tamper import build_cases

from .conftest import Cli


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("pristine") / "cases.db"
    return path, build_cases(f"sqlite:///{path}", ("甲", "乙"))


def _edit_definition(db: Path, old: str, new: str) -> str:
    con = sqlite3.connect(db)
    with con:
        (digest,) = con.execute("SELECT DISTINCT digest FROM cases").fetchone()
        changed = con.execute("UPDATE definitions SET text = replace(text, ?, ?) "
                              "WHERE digest = ?", (old, new, digest))
        assert changed.rowcount == 1
    con.close()
    return str(digest)


def test_edited_definition_text_is_named_by_verify_and_replay(
        pristine: tuple[Path, list[str]], cli: Cli) -> None:
    shutil.copy(pristine[0], cli.db)
    ids = pristine[1]
    assert cli("audit", "verify").code == 0
    digest = _edit_definition(cli.db, "length: 60 days", "length: 90 days")
    r = cli("audit", "verify", "--json")
    assert r.code == 1, r
    doc = r.json()
    assert [d["digest"] for d in doc["broken_definitions"]] == [digest]
    assert sorted((b["case"], b["seq"]) for b in doc["broken"]) == sorted((i, 1) for i in ids)
    text = cli("audit", "verify")
    assert f"BROKEN definition {digest}: the stored definition text does not match" in text.stdout
    assert "stored definition(s) do not match their digest" in text.stderr
    for case_id in ids:
        rep = cli("replay", case_id)
        assert rep.code == 1 and "Traceback" not in rep.stderr
        assert f"case {case_id}: its definition version {digest[:12]}" in rep.stderr


def test_fire_on_a_case_whose_stored_definition_was_edited_is_refused(
        cli: Cli, tmp_path: Path) -> None:
    case_id = cli.start()
    before = sqlite3.connect(cli.db).execute("SELECT seq, state FROM cases").fetchall()
    digest = _edit_definition(cli.db, "length: 60 days", "length: 90 days")
    # an engine that has only the stored text (the process files moved on or are elsewhere)
    empty = tmp_path / "no-processes"
    empty.mkdir()
    r = cli("case", "fire", case_id, "accept", "--actor", "王芳", "--role", "clerk",
            "--at", "2026-03-03T09:00", env={"FLOWENGINE_PROCESSES": str(empty)})
    assert r.code == 1, r
    assert "AssertionError" not in r.stderr and "Traceback" not in r.stderr
    assert f"case {case_id}: its definition version {digest[:12]}" in r.stderr
    assert "does not match its digest" in r.stderr
    after = sqlite3.connect(cli.db).execute("SELECT seq, state FROM cases").fetchall()
    assert after == before


def test_an_unchanged_stored_definition_still_fires_without_the_process_files(
        cli: Cli, tmp_path: Path) -> None:
    case_id = cli.start()
    empty = tmp_path / "no-processes"
    empty.mkdir()
    r = cli("case", "fire", case_id, "accept", "--actor", "王芳", "--role", "clerk",
            "--at", "2026-03-03T09:00", env={"FLOWENGINE_PROCESSES": str(empty)})
    assert r.code == 0, r
