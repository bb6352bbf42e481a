"""`flowengine validate` and `flowengine graph` through click's CliRunner: exit codes of the
CLI spec (0 fine, 1 errors, 2 usage/missing file), the one-JSON-document rule for
`--json`, and that a broken file never produces a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowengine.cli import _register, cli

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted(str(p) for p in (ROOT / "processes").glob("*.yaml"))
BAD = ROOT / "tests" / "fixtures" / "bad"

_register()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_shipped_processes_validate_with_exit_0(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", *SHIPPED])
    assert result.exit_code == 0, result.output
    assert " error " not in result.stdout
    assert "3 files checked: 0 errors" in result.stderr


def test_an_error_exits_1_and_prints_file_line_col(runner: CliRunner) -> None:
    path = str(BAD / "08_unknown_state_did_you_mean.yaml")
    result = runner.invoke(cli, ["validate", path])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:14:11: error FE201: unknown state 'answerd' in transition 'reply' "
        "(did you mean 'answered'?)"]
    assert "1 error" in result.stderr


def test_warnings_alone_exit_0_unless_strict(runner: CliRunner) -> None:
    path = str(BAD / "13_dead_end_state.yaml")
    assert runner.invoke(cli, ["validate", path]).exit_code == 0
    assert runner.invoke(cli, ["validate", "--strict", path]).exit_code == 1


def test_missing_file_is_a_usage_error_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", "no/such/file.yaml"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_no_file_is_a_usage_error(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["validate"]).exit_code == 2


def test_json_is_one_document_with_the_spec_shape(runner: CliRunner) -> None:
    bad = str(BAD / "22_unknown_role.yaml")
    result = runner.invoke(cli, ["validate", "--json", SHIPPED[0], bad])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert set(doc) == {"files", "ok"} and doc["ok"] is False
    assert [f["file"] for f in doc["files"]] == [SHIPPED[0], bad]
    assert [f["ok"] for f in doc["files"]] == [True, False]
    problem = doc["files"][1]["problems"][0]
    assert problem == {"file": bad, "line": 20, "col": 13, "severity": "error",
                       "code": "FE211", "message": "unknown role 'directer' in 'close'",
                       "hint": "did you mean 'director'?"}


def test_json_ok_file_and_strict(runner: CliRunner) -> None:
    path = str(BAD / "13_dead_end_state.yaml")
    doc = json.loads(runner.invoke(cli, ["validate", "--json", path]).stdout)
    assert doc["ok"] is True and doc["files"][0]["problems"][0]["severity"] == "warning"
    strict = runner.invoke(cli, ["validate", "--json", "--strict", path])
    assert strict.exit_code == 1 and json.loads(strict.stdout)["ok"] is False


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.name)
def test_every_broken_file_reports_without_traceback(runner: CliRunner, path: Path) -> None:
    result = runner.invoke(cli, ["validate", "--json", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    doc = json.loads(result.stdout)
    assert doc["files"][0]["problems"]


def test_binary_and_directory_inputs(runner: CliRunner, tmp_path: Path) -> None:
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\xff\xfe\x00id: x")
    result = runner.invoke(cli, ["validate", str(binary)])
    assert result.exit_code == 1 and "FE001" in result.stdout
    assert runner.invoke(cli, ["validate", str(tmp_path)]).exit_code == 2


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_prints_a_diagram(runner: CliRunner, fmt: str) -> None:
    result = runner.invoke(cli, ["graph", "--format", fmt, SHIPPED[1]])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first == "stateDiagram-v2" if fmt == "mermaid" else first.startswith("digraph")
    assert "route_claim [claim_amount > 30000]" in result.stdout


def test_graph_writes_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    result = runner.invoke(cli, ["graph", "--format", "dot", "-o", str(out), SHIPPED[2]])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text("utf-8").startswith('digraph "standard_case"')


def test_graph_refuses_a_broken_definition_with_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["graph", str(BAD / "08_unknown_state_did_you_mean.yaml")])
    assert result.exit_code == 2
    assert "FE201" in result.stderr and result.stdout == ""


def test_graph_rejects_an_unknown_format(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["graph", "--format", "png", SHIPPED[0]]).exit_code == 2
