"""Graph walks shared by the validator and the diagrams, on the shipped procedures (whose
shape the spec fixes) and on a small graph with a dead end and an island."""

from __future__ import annotations

from pathlib import Path

from flowengine.definition import graph
from flowengine.definition.loader import load_process, validate_text

ROOT = Path(__file__).resolve().parents[3]


def test_routes_give_one_edge_per_row() -> None:
    process = load_process(ROOT / "processes" / "medical_dispute.yaml")
    routed = [(e.source, e.dest) for e in graph.edges(process) if e.row is not None]
    assert routed == [("feedback_given", "negotiating"), ("feedback_given", "mediation_guided"),
                      ("mediation", "settled"), ("mediation", "court_advised")]


def test_every_shipped_state_is_reachable_and_can_finish() -> None:
    for path in sorted((ROOT / "processes").glob("*.yaml")):
        process = load_process(path)
        assert graph.reachable(process) == set(process.states), path.name
        assert graph.can_finish(process) == set(process.states), path.name


def test_closing_states_of_the_shipped_procedures() -> None:
    standard = load_process(ROOT / "processes" / "standard_case.yaml")
    # `closed` is not a closing state of standard_case: request_review / request_recheck
    # reopen it inside their 30-day windows (docs/process-language.md)
    assert graph.closing_states(standard) == set()
    five = load_process(ROOT / "processes" / "five_step.yaml")
    assert graph.closing_states(five) == {"resolved"}


def test_self_triggers_are_not_edges() -> None:
    process = load_process(ROOT / "processes" / "standard_case.yaml")
    selfs = {(s, t.trigger) for s, t in graph.self_triggers(process)}
    assert ("reviewing_reply", "sign_off") in selfs
    assert all(e.transition.trigger != "sign_off" for e in graph.edges(process))


def test_dead_end_and_island() -> None:
    text = """\
id: g
states:
  a: {initial: true}
  b: {}
  stuck: {}
  island: {}
  z: {final: true}
transitions:
  - {trigger: go, source: a, dest: b}
  - {trigger: end, source: b, dest: z}
  - {trigger: trap, source: b, dest: stuck}
  - {trigger: float, source: island, dest: z}
  - {trigger: bad, source: b, dest: nowhere}
"""
    process, _ = validate_text(text, "g.yaml")
    assert process is not None
    assert graph.reachable(process) == {"a", "b", "stuck", "z"}
    assert graph.can_finish(process) == {"a", "b", "island", "z"}
    assert all(e.dest != "nowhere" for e in graph.edges(process))
