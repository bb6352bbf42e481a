"""The broken-definition corpus: each `tests/fixtures/bad/NN_name.yaml` is one kind of
mistake an integrator makes, and `NN_name.expected` holds the exact `flowengine validate`
lines it must produce (FILE:LINE:COL, severity, code, message, hint). A change of wording
or position shows up here as a diff an author must look at and accept by editing the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowengine.definition.loader import load_process, validate_file
from flowengine.errors import DefinitionError

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests" / "fixtures" / "bad"
CASES = sorted(p.stem for p in BAD.glob("*.yaml"))
SHIPPED = sorted((ROOT / "processes").glob("*.yaml"))
DEFINITION = ROOT / "flowengine" / "definition"
CHECKS = sorted((DEFINITION / "checks").glob("*.py"))  # the semantic checks, one module a family


@pytest.mark.parametrize("name", CASES)
def test_bad_file_gives_exactly_the_expected_problems(name: str, monkeypatch) -> None:
    monkeypatch.chdir(BAD)  # messages then name the file as `NN_name.yaml`
    _, problems = validate_file(f"{name}.yaml")
    expected = (BAD / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    assert [str(p) for p in problems] == expected


@pytest.mark.parametrize("name", CASES)
def test_bad_file_is_refused_by_load_process_when_it_has_errors(name: str) -> None:
    expected = (BAD / f"{name}.expected").read_text(encoding="utf-8")
    if " error FE" not in expected:
        load_process(BAD / f"{name}.yaml")  # warnings only: still loads
        return
    with pytest.raises(DefinitionError) as info:
        load_process(BAD / f"{name}.yaml")
    assert all(p.location.line >= 1 for p in info.value.problems)


def test_corpus_has_thirty_kinds_of_mistake_each_with_its_expected_output() -> None:
    assert len(CASES) >= 30
    assert sorted(p.stem for p in BAD.glob("*.expected")) == CASES
    for name in CASES:
        assert (BAD / f"{name}.expected").read_text(encoding="utf-8").strip(), name


def _codes_in(text: str) -> set[str]:
    return set(re.findall(r"\bFE[1-4]\d\d\b", text))


def test_corpus_exercises_every_semantic_code() -> None:
    seen = set().union(*(_codes_in((BAD / f"{n}.expected").read_text("utf-8")) for n in CASES))
    source = "".join(f.read_text("utf-8") for f in CHECKS)
    emitted = {c for c in _codes_in(source) if c[2] in "234"}
    assert emitted and emitted - seen == set()


def test_every_code_is_documented() -> None:
    docs = (ROOT / "docs" / "validation.md").read_text("utf-8")
    source = "".join(f.read_text("utf-8")
                     for f in (*CHECKS, DEFINITION / "schema.py", DEFINITION / "loader.py"))
    documented = set(re.findall(r"^#+ .*?\b(FE\d{3})\b", docs, re.MULTILINE))
    assert _codes_in(source) | {"FE000", "FE001", "FE100"} <= documented


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_process_validates_without_errors(path: Path) -> None:
    process, problems = validate_file(path)
    assert process is not None
    assert [str(p) for p in problems if p.severity == "error"] == []
    load_process(path)


def test_the_three_procedures_are_shipped() -> None:
    assert [p.stem for p in SHIPPED] == ["five_step", "medical_dispute", "standard_case"]


def test_examples_quoted_in_the_docs_are_real_output() -> None:
    docs = (ROOT / "docs" / "validation.md").read_text("utf-8")
    quoted = re.findall(r"^(\d\d_\w+)\.yaml:\d+:\d+: .*$", docs, re.MULTILINE)
    assert quoted
    for match in re.finditer(r"^(\d\d_\w+)\.yaml:\d+:\d+: .*$", docs, re.MULTILINE):
        expected = (BAD / f"{match.group(1)}.expected").read_text("utf-8").splitlines()
        assert match.group(0) in expected
