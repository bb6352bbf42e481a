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
