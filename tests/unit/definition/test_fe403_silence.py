"""FE403 (form 2) says "say what a case must hold there: states: {closed: {requires:
[...]}}"; doing so, even with nothing or only conditional entries, must silence it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine.definition.loader import validate_text

BAD = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "bad"
TEXT = (BAD / "36_legal_completeness_lint.yaml").read_text("utf-8")
CLOSED = "  closed: {final: true, title: 结案}"


def _codes(closed: str) -> list[str]:
    assert CLOSED in TEXT
    _, problems = validate_text(TEXT.replace(CLOSED, closed), "x.yaml")
    assert not [p for p in problems if p.severity == "error"]
    return [p.code for p in problems]


def test_without_requires_the_end_record_warning_stands() -> None:
    assert "FE403" in _codes(CLOSED)


@pytest.mark.parametrize("requires", [
    "[]",
    "[{fields: [result, signed_by], when: \"trigger == 'close'\"}]",
])
def test_declaring_requires_as_the_hint_says_silences_it(requires: str) -> None:
    assert "FE403" not in _codes(f"  closed: {{final: true, title: 结案, requires: {requires}}}")


def test_an_unconditional_requirement_is_still_checked_on_every_way_in() -> None:
    codes = _codes("  closed: {final: true, title: 结案, requires: [result]}")
    assert codes.count("FE403") == 2  # withdraw from received and from answered
