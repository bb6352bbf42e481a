"""The examples an integrator copies from must keep working: every example process
validates cleanly and every example scenario passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine import run_scenario, validate_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.scenario.yaml")), ids=lambda p: p.name)
def test_example_scenario_passes(path: Path) -> None:
    result = run_scenario(str(path))
    assert result.ok, result.failures


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.yaml")
                                        if not p.name.endswith(".scenario.yaml")), ids=lambda p: p.name)
def test_example_process_validates_without_problems(path: Path) -> None:
    process, problems = validate_file(path)
    assert process is not None and problems == []
