"""Periodic checkpoints from `tick` and `worker` (the `[audit]` settings, docs/audit.md):
written when due by the database's clock and the log grew, signed, and accepted by
`audit verify --checkpoint`; a bad setting stops them at start-up naming file and key."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest

from flowengine.audit.periodic import CheckpointPolicy
from flowengine.cli.periodic import checkpoint_after_tick

from .conftest import Cli


def _settings(cli: Cli, every: str, key: bool = True, folder: str | None = None) -> dict[str, str]:
    (cli.folder / "cps").mkdir(exist_ok=True)
    keyfile = cli.folder / "auditor.key"
    if key and not keyfile.exists():
        assert cli("audit", "keygen", str(keyfile)).code == 0
    lines = ["[audit]", f'checkpoint_every = "{every}"',
             f'checkpoint_folder = "{folder or cli.folder / "cps"}"']
    if key:
        lines.append(f'checkpoint_key = "{keyfile}"')
    path = cli.folder / "flowengine-notify.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"FLOWENGINE_NOTIFY_CONFIG": str(path)}


def _events(cli: Cli) -> int:
    con = sqlite3.connect(cli.db)
    try:
        return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        con.close()


def _files(cli: Cli) -> list[Path]:
    return sorted((cli.folder / "cps").glob("checkpoint-*.txt"))


def test_tick_writes_a_signed_checkpoint_when_due_and_the_log_grew(cli: Cli) -> None:
    env = _settings(cli, "1s")
    cli.start()
    r = cli("tick", "--json", env=env)
    assert r.code == 0, r
    [first] = _files(cli)
    assert r.json()["checkpoint"] == str(first) and first.name.endswith(f"-{_events(cli)}.txt")
    assert "sig none" not in first.read_text()
    pub = str(cli.folder / "auditor.key.pub")
    assert cli("audit", "verify", "--checkpoint", str(first), "--pubkey", pub).code == 0
    time.sleep(1.2)
    r = cli("tick", "--json", env=env)  # due, but nothing new: no file
    assert r.code == 0 and r.json()["checkpoint"] is None and len(_files(cli)) == 1
    size = _events(cli)
    cli.start(petitioner="李四")
    r = cli("tick", env=env)
    assert r.code == 0 and "checkpoint written:" in r.stdout
    assert [p.name.rsplit("-", 1)[1] for p in _files(cli)] == [f"{size}.txt",
                                                               f"{_events(cli)}.txt"]


def test_not_due_yet_writes_nothing_and_worker_writes_one(cli: Cli) -> None:
    env = _settings(cli, "1h", key=False)
    cli.start()
    assert cli("tick", env=env).code == 0 and len(_files(cli)) == 1
    cli.start(petitioner="李四")
    assert cli("tick", env=env).code == 0 and len(_files(cli)) == 1  # not an hour yet
    assert "sig none" in _files(cli)[0].read_text()  # no key: unsigned
    for p in _files(cli):
        p.unlink()
    r = cli("worker", "--max-ticks", "2", "--interval", "0", "--json", env=env)
    assert r.code == 0 and r.json()["checkpoints"] == 1, r
    assert _files(cli)[0].name.endswith(f"-{_events(cli)}.txt")


@pytest.mark.parametrize(("toml", "names"), [
    ('[audit]\ncheckpoint_every = "soon"\ncheckpoint_folder = "."\n',
     "[audit] checkpoint_every must be a duration such as 90s, 30m, 1h or 1d"),
    ('[audit]\ncheckpoint_every = "1h"\n', "[audit] checkpoint_folder is missing"),
    ('[audit]\ncheckpoint_every = "1h"\ncheckpoint_folder = "nowhere"\n',
     "[audit] checkpoint_folder nowhere is not a folder"),
    ('[audit]\ncheckpoint_every = "1h"\ncheckpoint_folder = "."\ncheckpoint_key = "x.toml"\n',
     "[audit] checkpoint_key x.toml: not a readable"),
    ('[audit]\ncheckpoint_every = "0s"\ncheckpoint_folder = "."\n',
     "[audit] checkpoint_every must be more than 0"),
    ('[audit]\nevery = "1h"\n', "unknown key every in [audit]"),
])
def test_bad_audit_settings_stop_tick_and_worker_at_start_up(cli: Cli, toml: str,
                                                             names: str) -> None:
    path = cli.folder / "x.toml"
    path.write_text(toml, encoding="utf-8")
    cli.start()
    for args in (("tick",), ("worker", "--max-ticks", "1", "--interval", "0")):
        r = cli(*args, env={"FLOWENGINE_NOTIFY_CONFIG": str(path)})
        assert r.code == 2 and f"{path}: {names}" in r.stderr and "Traceback" not in r.stderr, r
    assert not list(cli.folder.glob("checkpoint-*"))


def test_a_checkpoint_that_cannot_be_written_is_a_warning(
        cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    """The folder vanished after start-up (a full or unmounted disk): the tick goes on."""
    cli.start()
    engine = cli.engine()
    gone = CheckpointPolicy(timedelta(seconds=1), cli.folder / "unmounted", None)
    assert checkpoint_after_tick(engine, gone) is None
    assert "warning: the periodic checkpoint was not written" in capsys.readouterr().err
    (cli.folder / "unmounted").mkdir()
    assert checkpoint_after_tick(engine, gone) is not None
    engine.store.close()  # type: ignore[attr-defined]


def test_only_our_checkpoint_names_count_as_the_newest(tmp_path: Path) -> None:
    from flowengine.audit.periodic import newest

    assert newest(tmp_path) is None
    (tmp_path / "checkpoint-notes.txt").write_text("mine")
    (tmp_path / "checkpoint-20261203T080000.000000Z-24.txt").write_text("x")
    (tmp_path / "checkpoint-20261203T090000.000000Z-30.txt").write_text("x")
    (tmp_path / "checkpoint-20261203T100000.000000Z-31.part").write_text("half")
    found = newest(tmp_path)
    assert found is not None and found[1] == 30 and found[0].hour == 9
