"""`flowengine export CASE --format html`: the auditor's timeline in a real Chromium, with
the YAML's titles, the actors as text, deadlines, notices and the chain's hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowengine.cli import _register, cli

from .conftest import INJECTED, Browser, Store

pytestmark = pytest.mark.browser
CELLS = """return [...document.querySelectorAll('table[data-table="%s"] tbody tr')].map(
  r => [...r.cells].map(c => c.textContent))"""


def export(store: Store, *args: str) -> str:
    _register()
    result = CliRunner().invoke(cli, ["export", "--db", store.url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_timeline_of_a_late_case(store: Store, browser: Browser, tmp_path: Path) -> None:
    case = store.ids["F"]
    out = tmp_path / "case.html"
    export(store, case, "--format", "html", "-o", str(out))
    history = json.loads(export(store, case))["events"]
    loaded = browser.open(out)
    assert loaded.console == [] and loaded.requests == [out.resolve().as_uri()]
    timeline = browser.js(CELLS % "timeline")
    assert [int(r[0]) for r in timeline] == [e["seq"] for e in history]
    assert timeline[0][2] == f"{INJECTED} (clerk)"  # the actor's name, as text
    assert browser.js("return document.querySelectorAll('script').length") == 0
    assert timeline[1][3] == "受理 (accept)"  # the trigger's YAML title
    assert "登记 (registered) → " in timeline[1][4]
    chain = browser.js(CELLS % "chain")
    assert [(r[1], r[2]) for r in chain] == [(e["prev_hash"], e["hash"]) for e in history]
    deadlines = {r[0]: r for r in browser.js(CELLS % "deadlines")}
    handling = next(r for name, r in deadlines.items() if name.endswith("(handling)"))
    assert handling[1] == "overdue"
    data = {r[0]: r[1] for r in browser.js(CELLS % "data")}
    assert data["信访形式 (channel)"] == "来访 (visit)"  # value_titles
    notices = browser.js(CELLS % "notices")
    assert len(notices) == sum(len(e["notifications"]) for e in history) > 0
    shot = tmp_path / "case.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 20_000

