"""`flowengine lists` and the dead-letter list (`notifications list --failed`) in every
format on a real SQLite file: XLSX read back with openpyxl and CSV with the csv module
give the JSON's rows, case data that looks like a formula comes back as text, and the
HTML page is one self-contained table page. `report --period-by` through the CLI."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from flowengine import Actor, Engine, SimulatedClock
from flowengine.audit.sheets import BOM
from flowengine.plugins import DeliveryError, Notification, hookimpl
from flowengine.store.sql import SqlStore

from .conftest import Cli, shared_registry

TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")
T0 = datetime(2026, 3, 2, 9, tzinfo=TZ)
INJECTIONS = ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)")


class Refusing:
    """A channel whose every delivery is refused: each notice becomes a dead letter."""

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return ["sms"]

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        raise DeliveryError("=HYPERLINK(\"http://x\") 号码不存在", retryable=False)


@pytest.fixture
def stored(cli: Cli) -> Cli:
    """Four standard cases handed down to units named like formulas (on the 督办责任清单),
    received by petitioners named like formulas; every notice dead-lettered."""
    clock = SimulatedClock(T0)
    engine = Engine(store=SqlStore(cli.url), clock=clock, plugins=[Refusing()])
    engine.registry = shared_registry()
    for p in (engine.registry.latest(pid).process for pid in engine.registry.ids()):
        engine.store.save_definition(p.digest, p.id, p.version, p.source_text)
    for i, text in enumerate(INJECTIONS):
        clock.set(T0 + timedelta(days=i))
        case = engine.start("standard_case", {"petitioner": text, "subject": f"事项{i}",
                                              "contact": "13800000000"}, actor=CLERK)
        engine.fire(case.id, "accept", actor=CLERK)
        engine.fire(case.id, "hand_down", {"hand_down_kind": "transfer", "handed_to": text,
                                           "hand_down_due": "2026-03-31"}, actor=CLERK)
    report = engine.plugins.deliver_due(T0 + timedelta(days=10))
    assert report.dead and not report.delivered
    return cli


def _xlsx_rows(path: Path) -> list[list[object]]:
    book = load_workbook(path)
    [sheet] = book.worksheets
    return [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:])))


def test_lists_in_xlsx_and_csv_equal_the_json_and_keep_formulas_as_text(stored: Cli,
                                                                         tmp_path: Path) -> None:
    doc = stored("lists", "--list", "supervision", "--json").json()
    [supervision] = doc["lists"]
    header = supervision["columns"]
    units = [r["转送交办的单位"] for r in supervision["rows"]]  # in case id order
    assert sorted(units) == sorted(INJECTIONS)
    out = tmp_path / "lists.xlsx"
    assert stored("lists", "--list", "supervision", "--format", "xlsx", "-o", str(out)).code == 0
    rows = _xlsx_rows(out)
    assert rows[0] == header
    assert [dict(zip(header, r, strict=True)) for r in rows[1:]] == [
        {k: v or None for k, v in row.items()} for row in supervision["rows"]]
    cells = {c.value: c for c in load_workbook(out).worksheets[0]["D"]}  # 转送交办的单位
    for text in INJECTIONS:
        assert cells[text].data_type == "s" and cells[text].quotePrefix
    r = stored("lists", "--list", "supervision", "--format", "csv")
    got = _csv_rows(r.stdout)
    assert got[1] == header
    assert [row[3] for row in got[2:]] == ["'" + t for t in units]


def test_lists_html_is_one_page_with_a_table_per_list(stored: Cli, tmp_path: Path) -> None:
    titles = [g["title"] for g in stored("lists", "--json").json()["lists"]]
    assert len(titles) == 4  # handed-down cases are on all four lists (四个清单)
    out = tmp_path / "lists.html"
    assert stored("lists", "--format", "html", "-o", str(out)).code == 0
    page = out.read_text(encoding="utf-8")
    assert page.count('<table data-table="lists">') == len(titles) and "<script" not in page
    assert all(t in page for t in titles)
    assert "<h1>责任清单</h1>" in page and "信访事项办理: 督办责任清单" in page
    assert "+cmd|&#x27; /C calc&#x27;!A0" in page  # escaped text


def test_dead_letters_in_every_format(stored: Cli, tmp_path: Path) -> None:
    doc = stored("notifications", "list", "--failed", "--json").json()["notifications"]
    assert doc and {n["status"] for n in doc} == {"dead"}
    text = stored("notifications", "list", "--failed")
    assert text.stdout.splitlines()[-1] == f"{len(doc)} notification(s)"
    out = tmp_path / "dead.xlsx"
    assert stored("notifications", "list", "--failed", "--format", "xlsx", "-o", str(out)).code == 0
    rows = _xlsx_rows(out)
    assert rows[0][:3] == ["编号", "案件", "事件序号"]
    assert [(r[0], r[1], r[2], r[6], r[7]) for r in rows[1:]] == [
        (n["id"], n["case"], n["seq"], "投递失败", n["attempts"]) for n in doc]
    assert {r[11] for r in rows[1:]} == {n["last_error"] for n in doc}
    book = load_workbook(out).worksheets[0]
    texts = [c for c in book["M"][2:] if str(c.value).startswith(INJECTIONS)]
    assert texts and all(c.data_type == "s" for c in texts)  # messages name the petitioner
    csv_rows = _csv_rows(stored("notifications", "list", "--failed", "--format", "csv",
                                "--lang", "en").stdout)
    assert csv_rows[0] == ["Dead letters (delivery gave up)"]
    assert csv_rows[1][:3] == ["id", "case", "seq"]
    assert [r[0] for r in csv_rows[2:]] == [n["id"] for n in doc]
    assert all(not r[12].startswith(("=", "+", "-", "@")) for r in csv_rows[2:])
    page = tmp_path / "dead.html"
    assert stored("notifications", "list", "--failed", "--format", "html", "-o", str(page)).code == 0
    html = page.read_text(encoding="utf-8")
    assert "<h1>投递失败的通知（死信）</h1>" in html and html.count("<tr>") == len(doc) + 1


def test_bad_format_options_are_usage_errors(stored: Cli) -> None:
    for args in (("lists", "--format", "xlsx"), ("notifications", "list", "--format", "xlsx"),
                 ("lists", "--json", "--format", "csv")):
        r = stored(*args)
        assert r.code == 2 and "--format" in r.stderr and "Traceback" not in r.stderr


def test_report_period_by_on_the_command_line(stored: Cli) -> None:
    received = stored("report", "--from", "2026-03-03", "--json").json()
    assert received["cases"] == 3 and received["period_by"] == "received"
    worked = stored("report", "--from", "2026-03-03", "--period-by", "event", "--json").json()
    assert worked["cases"] == 3  # each case was worked on only on the day it came in
    closed = stored("report", "--period-by", "closed", "--json").json()
    assert closed["cases"] == 0  # handed down, none closed
    bad = stored("report", "--period-by", "opened")
    assert bad.code == 2 and "--period-by" in bad.stderr


def test_an_unknown_list_name_is_a_usage_error_with_a_hint(stored: Cli) -> None:
    r = stored("lists", "--list", "supervison")
    assert r.code == 2
    assert "--list supervison" in r.stderr and "did you mean 'supervision'?" in r.stderr
    assert "Traceback" not in r.stderr
