"""`Registry.current`: the version a fire plans with, kept per digest, and forgotten when a
definition is added (a newer version may lay official calendar years over an older one)."""

from __future__ import annotations

from pathlib import Path

from flowengine.engine.registry import Registry

ROOT = Path(__file__).resolve().parents[3]


def test_current_is_the_effective_pinned_version_and_none_for_an_unknown_digest() -> None:
    registry = Registry()
    (process,) = registry.add_path(ROOT / "bench" / "refproc.yaml")
    pinned = registry.pinned(process.digest)
    assert pinned is not None
    assert registry.current(process.digest) is registry.effective(pinned)
    assert registry.current("0" * 64) is None


def test_adding_a_definition_forgets_what_current_kept() -> None:
    registry = Registry()
    (process,) = registry.add_path(ROOT / "bench" / "refproc.yaml")
    kept = registry.current(process.digest)
    assert kept is not None and registry._current == {process.digest: kept}
    registry.add_path(ROOT / "processes" / "standard_case.yaml")
    assert registry._current == {}
    assert registry.current(process.digest) is kept  # nothing laid over it: the same one
