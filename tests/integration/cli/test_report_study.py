"""The shipped example examples/complaint_study.py: the 958 complaints of the hospital
study reproduced to two decimals, by the example itself (text and JSON) and by
`flowengine report` on a real SQLite file (text, JSON, CSV, XLSX, --as-of).

The expected percentages are the study's own (表1–表3: 20.77 %, 39.67 % …, with its
"28,29%" typo read as 28.29); it prints no percentages for the years, so those are the
counts 113/160/290/395 of 958 worked out by hand."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest

from .conftest import ROOT, Cli

STUDY = {
    "category": {"医疗质量": (199, 20.77), "服务态度": (380, 39.67), "管理流程": (138, 14.41),
                 "经济纠纷": (99, 10.33), "其他": (142, 14.82)},
    "department_kind": {"住院科室": (113, 11.80), "医技部门": (96, 10.02), "门诊部": (445, 46.45),
                        "后勤保障部等其他部门": (304, 31.73)},
    "cause": {"医院方面": (415, 43.32), "患者方面": (271, 28.29), "医院外部因素": (142, 14.82),
              "其他方面": (130, 13.57)},
    "year": {"2008": (113, 11.80), "2009": (160, 16.70), "2010": (290, 30.27),
             "2011": (395, 41.23)},
}


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("complaint_study",
                                                  ROOT / "examples" / "complaint_study.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _example()


@pytest.fixture(scope="module")
def study_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(tmp_path_factory.mktemp("study")) / "study.db"
    engine = example.study_engine(f"sqlite:///{path}")
    engine.store.close()  # type: ignore[attr-defined]
    return path


@pytest.fixture
def study(cli: Cli, study_db: Path) -> Cli:
    cli.url = f"sqlite:///{study_db}"
    return cli


def rows_of(table: dict[str, Any]) -> dict[str, tuple[int, float]]:
    return {r["label"]: (r["count"], r["percent"]) for r in table["rows"]}


def test_the_example_prints_the_studys_tables_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert example.main(["--json"]) == 0
    tables = json.loads(capsys.readouterr().out)
    for table, by in zip(tables[:4], STUDY, strict=True):
        assert table["by"] == [by] and table["total"] == 958
        assert rows_of(table) == STUDY[by]


def test_the_example_prints_the_studys_tables_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert example.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    for figures in STUDY.values():
        for label, (count, pct) in figures.items():
            assert any(line.split() == [label, str(count), f"{pct:.2f}"] for line in lines), label
    assert sum(1 for line in lines if line.split()[:3] == ["合计", "958", "100.00"]) == 4


def test_cross_table_service_attitude_mostly_from_the_outpatient_department(
        study: Cli) -> None:
    doc = study("report", "--by", "category", "--by", "department_kind", "--json").json()
    (table,) = doc["tables"]
    assert table["titles"] == ["投诉内容", "投诉部门"] and table["total"] == 958
    columns = {c["label"]: (c["count"], c["percent"]) for c in table["columns"]}
    assert columns == STUDY["department_kind"]  # the column totals are the study's marginals
    assert rows_of(table) == STUDY["category"]
    attitude = next(r for r in table["rows"] if r["value"] == "service_attitude")
    cells = {c["value"]: c for c in attitude["cells"]}
    assert max(cells, key=lambda k: cells[k]["count"]) == "outpatient"
    assert cells["outpatient"]["percent"] > 50  # 260 of 380: 68.42
    assert sum(c["count"] for c in cells.values()) == 380


@pytest.mark.parametrize("by", list(STUDY))
def test_report_command_gives_the_studys_percentages(study: Cli, by: str) -> None:
    doc = study("report", "--by", by, "--json").json()
    assert doc["cases"] == 958 and rows_of(doc["tables"][0]) == STUDY[by]
    text = study("report", "--by", by).stdout.splitlines()
    for label, (count, pct) in STUDY[by].items():
        assert any(line.split() == [label, str(count), f"{pct:.2f}"] for line in text)


def test_csv_and_xlsx_give_the_numbers_of_the_json(study: Cli) -> None:
    args = ("report", "--by", "category", "--by", "department_kind")
    doc = study(*args, "--json").json()
    (table,) = doc["tables"]
    want = [[r["label"]] + [v for c in r["cells"] for v in (c["count"], c["percent"])]
            + [r["count"], r["percent"]] for r in table["rows"]]
    raw = study(*args, "--format", "csv").stdout
    assert raw.startswith("\ufeff")
    grid = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"))))
    start = grid.index(["medical_dispute: 投诉内容 × 投诉部门"])
    got = [[row[0]] + [float(v) if "." in v else int(v) for v in row[1:]]
           for row in grid[start + 2:start + 2 + len(want)]]
    assert got == want
    assert study(*args, "--format", "xlsx", "-o", str(study.folder / "r.xlsx")).code == 0
    book = openpyxl.load_workbook(study.folder / "r.xlsx")
    sheet = next(s for s in book.worksheets if s["A1"].value == "medical_dispute: 投诉内容 × 投诉部门")
    assert [c.value for c in sheet[2]][:3] == ["投诉内容 × 投诉部门", "住院科室", "住院科室 %"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=3, max_row=7)] == want
    kpis = next(s for s in book.worksheets if s["A1"].value == "medical_dispute: 指标")
    closure = next(r for r in kpis.iter_rows(min_row=3, values_only=True) if r[0] == "结案率")
    rate = doc["by_process"]["medical_dispute"]["rates"]["closure_rate"]
    assert closure[1:4] == (rate["numerator"], rate["denominator"], rate["percent"])


def test_as_of_the_end_of_2009_counts_the_first_two_years(study: Cli) -> None:
    doc = study("report", "--by", "year", "--as-of", "2009-12-31", "--json").json()
    assert doc["as_of"] == "2010-01-01T00:00:00+08:00" and doc["cases"] == 113 + 160
    assert rows_of(doc["tables"][0]) == {"2008": (113, 41.39), "2009": (160, 58.61)}


def test_english_labels(study: Cli) -> None:
    doc = study("report", "--by", "cause", "--lang", "en", "--json").json()
    assert doc["tables"][0]["titles"] == ["cause"]
    assert {r["label"] for r in doc["tables"][0]["rows"]} == set(example.CAUSES)

