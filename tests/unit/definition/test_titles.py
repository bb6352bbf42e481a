"""The petition procedures keep their promise of a title for every name (FE409), so no
timeline, report or letter of theirs shows `decline_filing` or `service_attitude`."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine.definition.loader import validate_file

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["standard_case", "five_step"])
def test_petition_procedures_title_every_name(name: str) -> None:
    process, problems = validate_file(ROOT / "processes" / f"{name}.yaml")
    assert process is not None and process.require_titles
    assert [str(p) for p in problems if p.code == "FE409"] == []
    untitled = [v for f in process.fields.values() for v in f.values if v not in f.value_titles]
    assert untitled == []
