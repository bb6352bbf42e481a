"""CSV and XLSX written for spreadsheets: the BOM, and no cell from case data that a
spreadsheet would run as a formula (OWASP CSV injection), read back with the csv module
and openpyxl."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from flowengine import Actor, Engine, SimulatedClock
from flowengine.audit.export import export_text, write_history_xlsx
from flowengine.audit.sheets import Grid, csv_text, grid_lines, sheet_name, write_xlsx
from tests.support.audit import at

ATTACKS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]

OPEN_PROCESS = """\
id: open_desk
version: "1"
title: 开放窗口
timezone: Asia/Shanghai
fields:
  note: {type: text}
states:
  open: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, source: open, dest: done, accepts: [note]}
"""


def test_csv_cells_that_could_run_are_quoted_and_others_kept() -> None:
    cells: list[list[str | int | float | None]] = [[a, 1] for a in ATTACKS]
    grid = Grid("t", ["name", "n"], cells + [["王芳", -5], ["a=b", 2.5]])
    text = csv_text([grid], titles=False)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r[0] for r in rows[1:7]] == ["'" + a for a in ATTACKS]
    assert rows[7] == ["王芳", "-5"] and rows[8] == ["a=b", "2.5"]  # numbers stay numbers


def test_xlsx_cells_that_could_run_are_text_not_formulas(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_xlsx([Grid("投诉内容", ["名称", "数量"], [[a, 1] for a in ATTACKS])], path)
    sheet = openpyxl.load_workbook(path)["投诉内容"]
    assert sheet["A1"].value == "投诉内容" and sheet["A2"].value == "名称"
    for row, attack in enumerate(ATTACKS, start=3):
        cell = sheet.cell(row=row, column=1)
        # openpyxl alone would write a formula ("f"); XML reads a carriage return back as \n
        assert (cell.value, cell.data_type) == (attack.replace("\r", "\n"), "s")
        assert sheet.cell(row=row, column=2).value == 1


def test_export_of_a_case_whose_actor_and_role_are_formulas(tmp_path: Path) -> None:
    (tmp_path / "open_desk.yaml").write_text(OPEN_PROCESS, encoding="utf-8")
    engine = Engine(db=f"sqlite:///{tmp_path / 'cases.db'}", processes=[tmp_path],
                    clock=SimulatedClock(at("2026-03-02T09:00:00")))
    case = engine.start("open_desk", {}, actor=Actor("=1+1", "+cmd|' /C calc'!A0"))
    engine.fire(case.id, "finish", {"note": "-2+3"}, actor=Actor("@SUM(A1:A2)", "clerk"))
    events = list(engine.history(case.id))
    text = export_text(case.id, events, "csv")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert (rows[0]["actor"], rows[0]["role"]) == ("'=1+1", "'+cmd|' /C calc'!A0")
    assert rows[1]["actor"] == "'@SUM(A1:A2)" and rows[1]["role"] == "clerk"
    write_history_xlsx(case.id, events, tmp_path / "h.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "h.xlsx").active
    assert sheet is not None
    header = [c.value for c in sheet[2]]
    actor, role = sheet.cell(3, header.index("actor") + 1), sheet.cell(3, header.index("role") + 1)
    assert (actor.value, actor.data_type) == ("=1+1", "s")
    assert (role.value, role.data_type) == ("+cmd|' /C calc'!A0", "s")


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = set()
    first = sheet_name("medical_dispute: 投诉内容 × 投诉部门 [2008/2011]?", taken)
    assert len(first) <= 31 and not set("[]:*?/\\") & set(first)
    assert sheet_name("medical_dispute: 投诉内容 × 投诉部门 [2008/2011]?", taken) != first


@pytest.mark.parametrize("rows", [[["门诊部", 445, 46.45]], [["outpatient", 445, 46.45]]])
def test_text_columns_line_up_with_chinese_text(rows: list[list[object]]) -> None:
    lines = grid_lines(Grid("t", ["部门", "数量", "%"], rows + [["合计", 958, 100.0]]))  # type: ignore[arg-type]
    assert lines[0] == "t"
    ends = {len(line.encode("gbk", "replace")) for line in lines[1:]}  # gbk: 2 bytes per 汉字
    assert len(ends) == 1, lines
    assert lines[-1].endswith("958  100.00")
