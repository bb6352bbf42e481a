"""The metrics observer counts from the hooks and renders Prometheus' text format."""

from __future__ import annotations

from flowengine.plugins.metrics import Metrics
from tests.support.plugins import accepted_case, make_engine, settings, through_every_observer_hook


def test_fires_rejections_and_overdue_are_counted() -> None:
    metrics = Metrics()
    engine, clock = make_engine(metrics, settings())
    through_every_observer_hook(engine, clock)
    p = {"process": "standard_case"}
    assert metrics.value("flowengine_cases_started_total", **p) == 1
    assert metrics.value("flowengine_fires_total", trigger="accept", **p) == 1
    assert metrics.value("flowengine_fires_total", trigger="extend", **p) == 1
    assert metrics.value("flowengine_rejections_total", trigger="archive", **p) == 1
    assert metrics.value("flowengine_deadlines_overdue_total", deadline="handling", **p) == 1
    assert metrics.value("flowengine_deadlines_extended_total", deadline="handling", **p) == 1
    text = metrics.exposition().decode()
    assert 'flowengine_fires_total{process="standard_case",trigger="accept"} 1.0' in text


def test_the_entry_point_instance_counts_only_once_configured() -> None:
    from flowengine.plugins.settings import Settings

    idle = Metrics(enabled=False)
    engine, _ = make_engine(idle, settings())
    accepted_case(engine)
    assert idle.value("flowengine_fires_total", process="standard_case", trigger="accept") == 0
    engine.plugins.configure(Settings(sections={"metrics": {}}))  # as the settings file does
    accepted_case(engine)
    assert idle.value("flowengine_fires_total", process="standard_case", trigger="accept") == 1


def test_a_poison_case_is_counted_as_a_failure_once_per_tick_that_tries_it() -> None:
    from datetime import timedelta
    from pathlib import Path

    from flowengine import Actor, Engine
    from flowengine.clock import parse_instant

    metrics = Metrics()
    poison_dir = Path(__file__).resolve().parents[2] / "fixtures" / "poison"
    engine = Engine(processes=[poison_dir], plugins=[metrics])
    at = parse_instant("2026-03-02T09:00")
    clerk = Actor("a", "clerk")
    poison = engine.start("poison", {"name": "x"}, actor=clerk, at=at).id
    engine.start("poison", {"name": "y", "amount": "3"}, actor=clerk, at=at)
    labels = {"process": "poison", "operation": "timers"}
    now = parse_instant("2026-03-10T09:00")
    engine.tick(now)
    assert metrics.value("flowengine_case_failures_total", **labels) == 1
    engine.tick(now)  # left aside until its retry time: not tried, not counted again
    assert metrics.value("flowengine_case_failures_total", **labels) == 1
    engine.tick(now + timedelta(minutes=2))
    assert metrics.value("flowengine_case_failures_total", **labels) == 2
    assert engine.failures.failures[poison].attempts == 2
