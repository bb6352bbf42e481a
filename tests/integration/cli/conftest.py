"""Run `flowengine` in-process through `main` (so errors map to exit codes exactly as in a
shell) on a real SQLite file in a temporary folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("flowengine.store.sql")

from flowengine import Actor, Engine  # noqa: E402
from flowengine.cli import main  # noqa: E402
from flowengine.clock import parse_instant  # noqa: E402
from flowengine.engine.registry import Registry  # noqa: E402
from flowengine.store.sql import SqlStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
PROCESSES = ROOT / "processes"
_REGISTRY: Registry | None = None


def shared_registry() -> Registry:
    """The shipped procedures, loaded once per test session (loading costs ~0.3 s)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry()
        _REGISTRY.add_path(PROCESSES)
    return _REGISTRY


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """`cli("case", "start", …)` runs one command; `cli.db` is the SQLite file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "cases.db"
        self.url = f"sqlite:///{self.db}"
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        base = {"FLOWENGINE_DB": self.url, "FLOWENGINE_PROCESSES": str(PROCESSES),
                "FLOWENGINE_ACTOR": None, "FLOWENGINE_ROLE": None}
        with self.runner.isolation(env={**base, **(env or {})}) as (out, err, _):
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            return Result(code, out.getvalue().decode(), err.getvalue().decode())

    def start(self, *extra: str, petitioner: str = "张三", subject: str = "噪音扰民",
              at: str = "2026-03-02T09:00") -> str:
        r = self("case", "start", "standard_case", "--set", f"petitioner={petitioner}",
                 "--set", f"subject={subject}", "--actor", "王芳", "--role", "clerk",
                 "--at", at, *extra)
        assert r.code == 0, r.stderr
        return r.stdout.splitlines()[0]

    @staticmethod
    def processes() -> Path:
        return PROCESSES

    def engine(self) -> Engine:
        """An API engine on the same database, to set up cases quickly."""
        store = SqlStore(self.url)
        registry = shared_registry()
        for pid in registry.ids():
            p = registry.latest(pid).process
            store.save_definition(p.digest, p.id, p.version, p.source_text, p.duplicate_key)
        engine = Engine(store=store)
        engine.registry = registry
        return engine

    def fire(self, case_id: str, trigger: str, *extra: str, role: str = "clerk",
             at: str | None = None) -> Result:
        args = ["case", "fire", case_id, trigger, "--actor", "王芳", "--role", role, *extra]
        return self(*args, *(["--at", at] if at else []))


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    return Cli(tmp_path)


CLOSE_STEPS: list[tuple[str, list[str], str]] = [
    ("accept", [], "clerk"),
    ("investigate", [], "clerk"),
    ("assign", ["--set", "department=城管局", "--set", "handler=刘洋"], "clerk"),
    ("draft_reply", ["--set", "claim=请求处理", "--set", "findings=属实",
                     "--set", "proposed_result=supported", "--set", "legal_basis=条例第三十二条"],
     "clerk"),
    ("sign_off", [], "office_director"),
    ("sign_off", [], "deputy_leader"),
    ("issue_reply", ["--set", "reply_text=已整改"], "clerk"),
    ("record_opinion", ["--set", "petitioner_opinion=satisfied"], "clerk"),
    ("close", ["--data", '{"result": "supported", "signed_by": "李明", "sealed": true}'],
     "clerk"),
]


def walk(cli: Cli, case_id: str, day: int = 3) -> None:
    """Fire CLOSE_STEPS through the command line on consecutive days from 2026-03-<day>."""
    for i, (trigger, extra, role) in enumerate(CLOSE_STEPS):
        r = cli.fire(case_id, trigger, *extra, role=role, at=f"2026-03-{day + i:02d}T10:00")
        assert r.code == 0, r.stderr


def _options(extra: list[str]) -> dict[str, Any]:
    if extra and extra[0] == "--data":
        return dict(json.loads(extra[1]))
    return dict(e.split("=", 1) for e in extra[1::2])


def walk_api(cli: Cli, case_id: str, day: int = 3) -> None:
    """The same steps through the API (fast set-up for tests of the other commands)."""
    engine = cli.engine()
    for i, (trigger, extra, role) in enumerate(CLOSE_STEPS):
        engine.fire(case_id, trigger, _options(extra), actor=Actor("王芳", role),
                    at=parse_instant(f"2026-03-{day + i:02d}T10:00"))
    engine.store.close()  # type: ignore[attr-defined]
