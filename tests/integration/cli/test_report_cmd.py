"""`flowengine report` on a real SQLite file: figures, --from/--to/--as-of, and bad input
refused with exit 2, a message naming what is wrong, and no traceback."""

from __future__ import annotations

import pytest

from .conftest import Cli, walk_api


@pytest.fixture
def two(cli: Cli) -> Cli:
    """甲 walked to closed from 03-03 to 03-11 (satisfied); 乙 received 03-20, registered."""
    walk_api(cli, cli.start(petitioner="甲"))
    cli.start(petitioner="乙", at="2026-03-20T09:00")
    return cli


def test_figures_and_selection(two: Cli) -> None:
    fig = two("report", "--json").json()["by_process"]["standard_case"]
    assert fig["cases"] == 2 and fig["closed"] == 1 and fig["accepted"] == 1
    assert fig["rates"]["satisfaction_rate"]["percent"] == 100.0
    only = two("report", "--from", "2026-03-10", "--json").json()
    assert only["cases"] == 1 and only["from"] == "2026-03-10"
    text = two("report").stdout
    assert "2 case(s) received from the beginning to now" in text
    assert any(line.split()[:4] == ["结案率", "1", "1", "100.00"] for line in text.splitlines())


def test_as_of_a_date_means_the_end_of_that_day(two: Cli) -> None:
    doc = two("report", "--as-of", "2026-03-05", "--by", "state", "--json").json()
    assert doc["as_of"] == "2026-03-06T00:00:00+08:00" and doc["cases"] == 1
    fig = doc["by_process"]["standard_case"]
    assert fig["by_state"] == {"investigating": 1}  # accepted 03-03, investigated 03-04
    assert [(r["label"], r["count"]) for r in doc["tables"][0]["rows"]] == [("调查核实", 1)]
    at_noon = two("report", "--as-of", "2026-03-03T09:30", "--json").json()
    assert at_noon["by_process"]["standard_case"]["by_state"] == {"registered": 1}


def test_output_file_for_text_json_and_csv(two: Cli) -> None:
    for fmt in ("text", "json", "csv"):
        path = two.folder / f"r.{fmt}"
        r = two("report", "--format", fmt, "-o", str(path))
        assert r.code == 0 and r.stdout == ""
        assert path.read_text(encoding="utf-8").strip()
    assert (two.folder / "r.csv").read_text(encoding="utf-8").startswith("\ufeff")


@pytest.mark.parametrize(("args", "words"), [
    (["--by", "colour"], ["colour", "channel", "petitioner_opinion", "year"]),
    (["--by", "petitioner"], ["petitioner"]),  # a text field cannot be a dimension
    (["--by", "replied_on"], ["replied_on.year", "replied_on.month"]),
    (["--by", "year", "--by", "month", "--by", "state"], ["--by", "at most two"]),
    (["--as-of", "June"], ["--as-of", "YYYY-MM-DD"]),
    (["--from", "2026-02-30"], ["--from", "YYYY-MM-DD"]),
    (["--from", "2026-03-10", "--to", "2026-03-01"], ["--to is before --from"]),
    (["--format", "xlsx"], ["--output"]),
    (["--json", "--format", "csv"], ["--json", "--format csv"]),
    (["--lang", "fr"], ["--lang", "zh", "en"]),
])
def test_bad_input_exits_2_naming_the_problem(two: Cli, args: list[str],
                                              words: list[str]) -> None:
    r = two("report", *args)
    assert r.code == 2, r.stdout
    assert "Traceback" not in r.stderr
    for word in words:
        assert word in r.stderr, r.stderr


def test_a_field_of_another_process_only(two: Cli) -> None:
    r = two("report", "--by", "category")  # medical_dispute's field; only petitions stored
    assert r.code == 2 and "cannot count by category" in r.stderr


def test_export_xlsx_needs_a_file(two: Cli) -> None:
    case_id = two.start(petitioner="丙")
    assert two("export", case_id, "--format", "xlsx").code == 2
    assert two("export", case_id, "--format", "xlsx", "-o", str(two.folder / "h.xlsx")).code == 0
