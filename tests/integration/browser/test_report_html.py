"""`flowengine report --format html` opened in a real headless Chromium: no console error,
no request beyond the file itself, charts with one bar per value, the DOM's numbers equal
to the JSON report's, case data shown as text, a screenshot, and A4 pages in print."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowengine.audit.report import KPI_NAMES
from flowengine.cli import _register, cli

from .conftest import INJECTED, Browser, Store, no_dot

pytestmark = pytest.mark.browser
A4 = (595.0, 842.0)  # points
CHARTS = """return [...document.querySelectorAll('figure.chart')].map(f => ({
  title: f.querySelector('.title').textContent,
  bars: f.querySelectorAll('.series .rect').length,
  values: [...f.querySelectorAll('.series desc.value')].map(d => d.textContent),
  ticks: [...f.querySelectorAll('.axis.y .guides > text')].map(t => t.textContent)}))"""
TABLES = """return Object.fromEntries([...document.querySelectorAll('table[data-table]')].map(
  (t, i) => [t.dataset.table + ':' + i, [...t.querySelectorAll('tbody tr')].map(
    r => [...r.cells].map(c => c.textContent))]))"""


def run(store: Store, *args: str, command: str = "report") -> str:
    _register()  # the commands, as the console script registers them
    result = CliRunner().invoke(cli, [command, "--db", store.url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def rows(tables: dict[str, list[list[str]]], kind: str) -> dict[str, list[str]]:
    found = [v for k, v in tables.items() if k.startswith(kind + ":")]
    assert len(found) == 1, (kind, list(tables))
    return {r[0]: r[1:] for r in found[0]}


def shown(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


@pytest.fixture(scope="module")
def page(store: Store, browser: Browser, tmp_path_factory: pytest.TempPathFactory,
         ) -> tuple[Path, dict[str, Any], Any]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    with pytest.MonkeyPatch.context() as mp:
        no_dot(mp, out.parent)
        run(store, "--by", "channel", "--format", "html", "-o", str(out))
    doc = json.loads(run(store, "--by", "channel", "--json"))
    return out, doc, browser.open(out)


def test_loads_with_no_console_error_and_no_request(page: tuple[Path, dict[str, Any], Any]) -> None:
    path, _, loaded = page
    assert loaded.console == []
    assert loaded.requests == [path.resolve().as_uri()]


def test_charts_have_one_bar_per_value(page: tuple[Path, dict[str, Any], Any],
                                       browser: Browser) -> None:
    _, doc, _ = page
    fig = doc["by_process"]["standard_case"]
    charts = {c["title"]: c for c in browser.js(CHARTS)}
    decided = [d for d in fig["deadlines"].values() if d["on_time_rate"]["denominator"]]
    by_deadline = charts["standard_case: 各期限按期率 (%)"]
    assert by_deadline["bars"] == len(decided) == 2
    assert by_deadline["values"] == [f"{d['on_time_rate']['percent']:.2f}%" for d in decided]
    months = charts["standard_case: 按期办结率（按收件月份, %）"]
    monthly = [r for r in fig["on_time_by_month"].values() if r["denominator"]]
    assert months["bars"] == len(monthly) == 3  # March, April (on time), July (late)
    assert months["values"] == [f"{r['percent']:.2f}%" for r in monthly]
    table = doc["tables"][0]
    by_channel = charts["standard_case: 信访形式"]
    assert by_channel["bars"] == len(table["rows"]) == 2
    assert by_channel["values"] == [str(r["count"]) for r in table["rows"]]
    top = max(r["count"] for r in table["rows"])
    ticks = [int(t) for t in by_channel["ticks"]]  # whole numbers: int() refuses "0.5"
    assert ticks == list(range(0, top + 1))  # 1 and 2 cases: 0, 1, 2
    assert by_deadline["ticks"] == [f"{v}%" for v in range(0, 101, 10)]


def test_numbers_in_the_dom_equal_the_json_report(page: tuple[Path, dict[str, Any], Any],
                                                  browser: Browser) -> None:
    _, doc, _ = page
    fig = doc["by_process"]["standard_case"]
    tables = browser.js(TABLES)
    kpis = rows(tables, "kpis")
    assert len(kpis) == len(fig["rates"])
    for key, rate in fig["rates"].items():
        assert kpis[KPI_NAMES[key][0]][:3] == [shown(rate[k]) for k in
                                               ("numerator", "denominator", "percent")]
    counts = rows(tables, "counts")
    assert [counts[k][0] for k in ("收件", "受理", "结案", "立案")] == [
        str(fig[k]) for k in ("cases", "accepted", "closed", "filed")]
    by = rows(tables, "by")
    for r in doc["tables"][0]["rows"]:
        assert by[r["label"]] == [str(r["count"]), shown(r["percent"])]
    assert by["合计"][0] == str(doc["tables"][0]["total"])


def test_no_diagram_without_graphviz_says_so(page: tuple[Path, dict[str, Any], Any]) -> None:
    path, _, _ = page
    assert "流程图未包含：本机未安装 Graphviz" in path.read_text(encoding="utf-8")


def test_screenshot_and_a4_pdf(page: tuple[Path, dict[str, Any], Any], browser: Browser,
                               tmp_path: Path) -> None:
    browser.open(page[0])
    shot = tmp_path / "report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    pdf = browser.pdf()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) >= 2  # sections start on new pages
    for w, h in boxes:
        assert abs(float(w) - A4[0]) < 1.5 and abs(float(h) - A4[1]) < 1.5


def test_case_data_is_text_not_markup(store: Store, browser: Browser, tmp_path: Path) -> None:
    """A petitioner named like a script appears in a cross-table label as text."""
    out = tmp_path / "r.html"
    run(store, "--by", "state", "--lang", "en", "--format", "html", "-o", str(out))
    loaded = browser.open(out)
    assert loaded.console == []
    assert browser.js("return document.querySelectorAll('script').length") == 0
    assert browser.js("return document.documentElement.lang") == "en"
    assert "Case-handling report" in browser.js("return document.body.innerText")
    assert INJECTED not in out.read_text(encoding="utf-8")
