"""The per-case appendix of `report --format html --cases` in a real headless Chromium:
one index row and one block per selected case, each index link leading to its block, the
DOM's dates, deadline outcomes and provisional marks equal to the JSON report's
`appendix`, no console error and no request, a screenshot, and A4 pages in print."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowengine import Engine, SimulatedClock
from flowengine.audit.report.appendix import outcome_word
from flowengine.cli import _register, cli
from tests.support import audit as support

from .conftest import A4_POINTS, Browser

pytestmark = pytest.mark.browser
INDEX = """return [...document.querySelectorAll('table[data-table="appendix-index"] tbody tr')]
  .map(r => [...r.cells].map(c => c.textContent))"""
BLOCKS = """return [...document.querySelectorAll('article.case')].map(a => ({
  id: a.id, case: a.dataset.case,
  rows: [...a.querySelectorAll('tbody tr')].map(r => ({
     cells: [...r.cells].map(c => c.textContent),
     outcome: r.querySelector('[data-outcome]').dataset.outcome})),
  lead: a.querySelector('p.lead').textContent}))"""


@pytest.fixture(scope="module")
def appendix(browser: Browser, tmp_path_factory: pytest.TempPathFactory,
             ) -> tuple[Path, dict[str, Any], Any, dict[str, str]]:
    """A: archived in March, every deadline on time. F: accepted in July, its handling
    deadline overdue by October. P: accepted on 2026-12-01, its 60-day handling deadline
    falls in 2027, whose holidays are not loaded: provisional."""
    folder = tmp_path_factory.mktemp("appendix")
    url = f"sqlite:///{folder / 'cases.db'}"
    clock = SimulatedClock(support.at("2026-03-02T09:00:00"))
    engine = Engine(url, processes=[support.PROCESSES], clock=clock)
    a = support.walk_standard(engine, clock, petitioner="甲")
    clock.set(support.at("2026-07-01T09:00:00"))
    f = engine.start("standard_case", {"petitioner": "丙", "subject": "拖欠工资"},
                     actor=support.CLERK)
    engine.fire(f.id, "accept", actor=support.CLERK)
    clock.set(support.at("2026-10-01T09:00:00"))
    engine.tick()
    clock.set(support.at("2026-12-01T09:00:00"))
    p = engine.start("standard_case", {"petitioner": "丁", "subject": "供暖"}, actor=support.CLERK)
    clock.advance(timedelta(hours=2))
    engine.fire(p.id, "accept", actor=support.CLERK)
    _register()
    runner = CliRunner()
    out = folder / "report.html"
    done = runner.invoke(cli, ["report", "--db", url, "--cases", "--format", "html", "-o", str(out)])
    assert done.exit_code == 0, done.output
    doc = runner.invoke(cli, ["report", "--db", url, "--cases", "--json"])
    assert doc.exit_code == 0, doc.output
    return out, json.loads(doc.output), browser.open(out), {"A": a.id, "F": f.id, "P": p.id}


def test_loads_with_no_console_error_and_no_request(appendix: tuple[Path, dict[str, Any], Any,
                                                                    dict[str, str]]) -> None:
    path, _, loaded, _ = appendix
    assert loaded.console == []
    assert loaded.requests == [path.resolve().as_uri()]


def test_index_rows_equal_the_json(appendix: tuple[Path, dict[str, Any], Any, dict[str, str]],
                                   browser: Browser) -> None:
    _, doc, _, ids = appendix
    lines = doc["appendix"]
    assert [c["id"] for c in lines] == [ids["A"], ids["F"], ids["P"]]  # by date received
    rows = browser.js(INDEX)
    assert rows == [[c["id"], c["state_title"], c["received"], c["closed"] or "",
                     str(len(c["deadlines"])), str(c["late_deadlines"])] for c in lines]
    by_id = {c["id"]: c for c in lines}
    assert by_id[ids["A"]]["closed"] is not None and by_id[ids["F"]]["closed"] is None
    assert by_id[ids["F"]]["late_deadlines"] == 1


def test_each_link_leads_to_the_case_block(appendix: tuple[Path, dict[str, Any], Any,
                                                           dict[str, str]],
                                           browser: Browser) -> None:
    path, doc, _, _ = appendix
    browser.open(path)
    for c in doc["appendix"]:
        target = browser.js(f"""const a = document.querySelector('a[href="#case-{c["id"]}"]');
            a.click(); const t = document.querySelector(':target');
            return [location.hash, t && t.dataset.case]""")
        assert target == [f"#case-{c['id']}", c["id"]]
    assert browser.js("return document.querySelectorAll('article.case a[href=\"#cases\"]').length") \
        == len(doc["appendix"])


def test_deadline_rows_equal_the_json(appendix: tuple[Path, dict[str, Any], Any, dict[str, str]],
                                      browser: Browser) -> None:
    _, doc, _, ids = appendix
    blocks = {b["case"]: b for b in browser.js(BLOCKS)}
    assert list(blocks) == [c["id"] for c in doc["appendix"]]
    for c in doc["appendix"]:
        got = blocks[c["id"]]
        assert got["id"] == f"case-{c['id']}"
        assert f"收件: {c['received']}" in got["lead"]
        assert f"最近事件: {c['last_event']}" in got["lead"]
        assert f"结案: {c['closed'] or '未结案'}" in got["lead"]
        assert [r["outcome"] for r in got["rows"]] == [d["outcome"] for d in c["deadlines"]]
        for row, d in zip(got["rows"], c["deadlines"], strict=True):
            cells = row["cells"]
            assert cells[1] == (d["counted_from"] or "")
            assert cells[2].removesuffix(" *") == (d["due"] or "")
            assert cells[3] == (d["stopped"] or "")
            assert cells[5] == outcome_word(d["outcome"], "zh")
            assert cells[6] == str(d["extensions"])
    outcomes = {c["id"]: [d["outcome"] for d in c["deadlines"]] for c in doc["appendix"]}
    assert set(outcomes[ids["A"]]) == {"on_time"} and "late" in outcomes[ids["F"]]


def test_provisional_due_dates_are_marked(appendix: tuple[Path, dict[str, Any], Any,
                                                          dict[str, str]],
                                         browser: Browser) -> None:
    _, doc, _, ids = appendix
    [p] = [c for c in doc["appendix"] if c["id"] == ids["P"]]
    marked = [d for d in p["deadlines"] if d["provisional"]]
    assert marked and all(d["provisional"] == [2027] for d in marked)
    block = {b["case"]: b for b in browser.js(BLOCKS)}[ids["P"]]
    notes = [r["cells"][-1] for r in block["rows"]]
    assert notes.count("暂定（2027 年日历）") == len(marked)
    assert sum(r["cells"][2].endswith(" *") for r in block["rows"]) == len(marked)


def test_screenshot_and_a4_pdf(appendix: tuple[Path, dict[str, Any], Any, dict[str, str]],
                               browser: Browser, tmp_path: Path) -> None:
    browser.open(appendix[0])
    shot = tmp_path / "appendix.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    pdf = browser.pdf()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) >= 2  # the appendix starts on a page of its own
    for w, h in boxes:
        assert abs(float(w) - A4_POINTS[0]) < 1.5 and abs(float(h) - A4_POINTS[1]) < 1.5
