"""The read-only commands leave the evidence exactly as they found it (docs/audit.md).

Each of `audit verify`, `replay`, `export` (also with `--all`), `audit heads`, `report`,
`case show`, `case list`, `db current` and `notifications list` runs on (a) a copy in
rollback-journal mode, (b) a file with mode 0444 in a folder nobody may write to
(read-only media), and (c) a WAL-mode copy; the file's SHA-256 and which
-wal/-shm/-journal files exist are compared before and after. A database path that does
not exist is refused by every command that does not create one, naming the path, and is
not created.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowengine.audit.checkpoint import take
from flowengine.store.sql import SqlStore
from tests.support.tamper import build_cases

from .conftest import ROOT, Cli

SIDE_FILES = ("-wal", "-shm", "-journal")


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The same two cases as a WAL-mode file and as a rollback-journal copy."""
    folder = tmp_path_factory.mktemp("originals")
    wal = folder / "wal.db"
    ids = build_cases(f"sqlite:///{wal}", ("甲", "乙"))
    store = SqlStore(f"sqlite:///{wal}")  # a checkpoint for the commands that read one
    (folder / "cp.txt").write_text(take(store, None).text(), encoding="utf-8")
    store.close()
    rollback = folder / "rollback.db"
    shutil.copy(wal, rollback)
    con = sqlite3.connect(rollback)
    assert con.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    con.close()
    assert _journal_mode(wal) == "wal" and _journal_mode(rollback) == "delete"
    return wal, rollback, ids


def _journal_mode(path: Path) -> str:
    """From the file header (bytes 18-19 are 2 in WAL mode), without opening it."""
    return "wal" if path.read_bytes()[18:20] == b"\x02\x02" else "delete"


def read_commands(case_id: str, db: str, *extra: str,
                  checkpoint: Path | None = None) -> list[list[str]]:
    commands = [["audit", "verify"], ["replay", case_id], ["export", case_id], ["report"],
                ["case", "show", case_id], ["case", "list"], ["db", "current"],
                ["notifications", "list"], ["replay", "--all"], ["export", "--all"],
                ["audit", "heads"]]
    if checkpoint is not None:  # reading the log under a checkpoint sequences nothing
        cp = str(checkpoint)
        commands += [["audit", "verify", "--checkpoint", cp],
                     ["export", "--all", "--checkpoint", cp],
                     ["audit", "prove", case_id, "2", "--checkpoint", cp]]
    return [[*c, "--db", db, *extra] for c in commands]


def _cp(originals: tuple[Path, Path, list[str]]) -> Path:
    return originals[0].with_name("cp.txt")


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's SHA-256 and the SQLite side files that exist beside it."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, [s for s in SIDE_FILES if Path(f"{path}{s}").exists()]


def test_rollback_journal_copy_is_left_byte_for_byte(
        originals: tuple[Path, Path, list[str]], cli: Cli) -> None:
    shutil.copy(originals[1], cli.db)
    for command in read_commands(originals[2][0], cli.url, checkpoint=_cp(originals)):
        before = fingerprint(cli.db)
        r = cli(*command)
        assert r.code == 0, (command, r)
        assert fingerprint(cli.db) == before == (before[0], []), command
    assert _journal_mode(cli.db) == "delete"


def test_wal_copy_keeps_its_bytes_and_immutable_creates_nothing(
        originals: tuple[Path, Path, list[str]], cli: Cli) -> None:
    """`mode=ro` on a WAL-mode file: SQLite may create its (empty) -wal/-shm companions, the
    file itself is not changed; `--immutable` creates nothing at all."""
    shutil.copy(originals[0], cli.db)
    digest = fingerprint(cli.db)[0]
    for command in read_commands(originals[2][1], cli.url, "--immutable",
                                 checkpoint=_cp(originals)):
        r = cli(*command)
        assert r.code == 0, (command, r)
        assert fingerprint(cli.db) == (digest, []), command
    for command in read_commands(originals[2][1], cli.url, checkpoint=_cp(originals)):
        r = cli(*command)
        assert r.code == 0, (command, r)
        assert fingerprint(cli.db)[0] == digest, command
    assert Path(f"{cli.db}-wal").stat().st_size == 0  # nothing was written through it


def _unprivileged() -> list[str]:
    """A command prefix under which file permissions apply (root ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only to us")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


RUNNER = """
import contextlib, io, json, sys
from flowengine.cli import main
results = []
for args in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    results.append([code, err.getvalue()])
print(json.dumps(results))
"""


def run_unprivileged(commands: list[list[str]]) -> list[tuple[int, str]]:
    """Run flowengine commands in one child process without the right to write files
    that are not writable (exit code and stderr of each)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")])}
    env.pop("FLOWENGINE_DB", None)
    done = subprocess.run([*_unprivileged(), sys.executable, "-c", RUNNER,
                           json.dumps(commands)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return [(code, err) for code, err in json.loads(done.stdout)]


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "evidence"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)  # so the temporary folder can be removed


def test_read_only_file_on_read_only_folder(
        originals: tuple[Path, Path, list[str]], read_only_folder: Path) -> None:
    wal, rollback = read_only_folder / "wal.db", read_only_folder / "rollback.db"
    shutil.copy(originals[0], wal)
    shutil.copy(originals[1], rollback)
    for path in (wal, rollback):
        path.chmod(0o444)
    read_only_folder.chmod(0o555)
    before = {p: fingerprint(p) for p in (wal, rollback)}
    case_id = originals[2][0]
    plain = read_commands(case_id, f"sqlite:///{rollback}", checkpoint=_cp(originals))
    immutable = read_commands(case_id, f"sqlite:///{wal}", "--immutable",
                              checkpoint=_cp(originals))
    refused = [["audit", "verify", "--db", f"sqlite:///{wal}"]]
    results = run_unprivileged(plain + immutable + refused)
    for command, (code, err) in zip(plain + immutable, results, strict=False):
        assert code == 0, (command, err)
    code, err = results[-1]
    assert code == 2 and "--immutable" in err and str(wal) in err and "Traceback" not in err
    assert {p: fingerprint(p) for p in (wal, rollback)} == before
    assert all(side == [] for _, side in before.values())


NOT_CREATING = [["audit", "verify"], ["replay", "C1"], ["export", "C1"], ["report"],
                ["case", "show", "C1"], ["case", "list"], ["case", "fire", "C1", "accept"],
                ["db", "current"], ["notifications", "list"], ["notifications", "retry",
                                                               "--all"],
                ["notifications", "deliver"], ["replay", "--all"], ["export", "--all"],
                ["audit", "heads"]]


@pytest.mark.parametrize("command", NOT_CREATING, ids=" ".join)
def test_a_missing_database_file_is_an_error_naming_it(cli: Cli, command: list[str]) -> None:
    missing = cli.folder / "cases-typo.db"
    r = cli(*command, "--db", f"sqlite:///{missing}")
    assert r.code == 2, r
    assert str(missing) in r.stderr and "does not exist" in r.stderr
    assert "Traceback" not in r.stderr
    assert not missing.exists()


def test_the_creating_commands_still_create(cli: Cli) -> None:
    assert cli("db", "upgrade").code == 0 and cli.db.exists()
    for command in (["case", "start", "standard_case", "--set", "petitioner=张三",
                     "--set", "subject=噪音", "--role", "clerk"], ["tick"], ["worker", "--max-ticks", "1",
                                                          "--interval", "0"]):
        path = cli.folder / f"new-{command[0]}.db"
        r = cli(*command, "--db", f"sqlite:///{path}")
        assert r.code == 0 and path.exists(), (command, r)


def test_read_only_store_refuses_writes_and_an_empty_file(tmp_path: Path) -> None:
    """The Python API for auditors: `SqlStore(url, read_only=True)`."""
    path = tmp_path / "cases.db"
    build_cases(f"sqlite:///{path}", ("甲",))
    store = SqlStore(f"sqlite:///{path}", read_only=True)
    with pytest.raises(Exception, match="readonly"):
        store.save_definition("d" * 64, "p", "1", "id: p")
    store.close()
    (tmp_path / "empty.db").touch()
    with pytest.raises(Exception, match="is empty"):
        SqlStore(f"sqlite:///{tmp_path / 'empty.db'}", read_only=True)
    assert (tmp_path / "empty.db").stat().st_size == 0


@pytest.mark.postgres
def test_postgresql_read_only_commands_run_in_read_only_transactions(
        cli: Cli, pg_url: str) -> None:
    from sqlalchemy import text

    from flowengine import Actor, Engine

    ids = build_cases(pg_url, ("甲",))
    for command in read_commands(ids[0], pg_url):
        r = cli(*command)
        assert r.code == 0, (command, r)
    store = SqlStore(pg_url, read_only=True)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW transaction_read_only")).scalar() == "on"
        with pytest.raises(Exception, match="read-only transaction"):
            store.save_definition("d" * 64, "p", "1", "id: p")
        engine = Engine(store=store)  # its fire appends on the store's held connection
        with pytest.raises(Exception, match="read-only transaction"):
            engine.fire(ids[0], "record_opinion", {"petitioner_opinion": "satisfied"},
                        actor=Actor("王芳", "clerk"), at=engine.case(ids[0]).updated_at)
    finally:
        store.close()
    assert cli("audit", "verify", env={"FLOWENGINE_DB": pg_url}).code == 0
