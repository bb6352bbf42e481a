"""Every scenario under tests/scenarios/ runs through the same code path as
`flowengine simulate` and must pass; each file is one test, named by its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine.simulate import run_scenario

ROOT = Path(__file__).parent / "scenarios"
FILES = sorted(ROOT.rglob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_scenario(path: Path) -> None:
    result = run_scenario(str(path), processes=[str(Path(__file__).parent.parent / "processes")])
    assert result.ok, "\n".join(result.failures)


def test_a_failing_expectation_is_reported(tmp_path: Path) -> None:
    """The runner must be able to fail: a wrong expected state is a failure, not a pass."""
    source = (ROOT / "medical_dispute" / "mediation_runs_out.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(source.replace("process: ../../../processes/medical_dispute.yaml",
                                  "process: medical_dispute")
                   .replace("state: court_advised", "state: settled"), encoding="utf-8")
    result = run_scenario(str(bad), processes=[str(Path(__file__).parent.parent / "processes")])
    assert not result.ok
    assert any("state is 'court_advised', expected 'settled'" in f for f in result.failures)
