"""Metrics observer: counts fires, rejections, overdue deadlines … for Prometheus.

An example of a plugin that delivers nothing and only watches. It uses `prometheus-client`
(the Prometheus authors' own library: pure Python, no dependencies) for the counters and
the text exposition format, rather than re-implementing the format by hand.

Registered through the `flowengine.plugins` entry point like any plugin, so it is always
loaded, but it counts only once the settings have a `[metrics]` section (counting costs
every fire a few microseconds, which an engine nobody scrapes should not pay); to let
Prometheus scrape a long-running `flowengine worker`, set

    [metrics]
    port = 9464          # serve /metrics on this port (default address 127.0.0.1)
    address = "0.0.0.0"

An instance a host creates itself (`Metrics()`) counts from the start.

A host embedding the engine can instead read `plugin.exposition()` from its own web app, or
pass its own `Metrics(registry=…)` to `Engine(plugins=…)`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest, start_http_server

from ..records.case import Actor, Case
from ..records.events import Event
from . import hookimpl
from .settings import Settings

log = logging.getLogger("flowengine.plugins.metrics")

__all__ = ["Metrics", "plugin"]


class Metrics:
    """Prometheus counters fed by the observer hooks; each instance has its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None, *, enabled: bool = True) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.served_port: int | None = None
        self.enabled = enabled

        def counter(name: str, doc: str, labels: Sequence[str]) -> Counter:
            return Counter(name, doc, list(labels), registry=self.registry)

        self.started = counter("flowengine_cases_started", "Cases started", ["process"])
        self.fires = counter("flowengine_fires", "Triggers fired and committed",
                             ["process", "trigger"])
        self.rejections = counter("flowengine_rejections", "Triggers refused",
                                  ["process", "trigger"])
        self.warnings = counter("flowengine_deadline_warnings", "Deadline warnings",
                                ["process", "deadline"])
        self.overdue = counter("flowengine_deadlines_overdue", "Deadlines that went overdue",
                               ["process", "deadline"])
        self.expired = counter("flowengine_deadlines_expired", "Deadlines that ran out",
                               ["process", "deadline"])
        self.extended = counter("flowengine_deadlines_extended", "Deadline extensions",
                                ["process", "deadline"])
        self.failures = counter("flowengine_case_failures",
                                "Per-case failures of tick/reconcile (the case is retried with "
                                "back-off)", ["process", "operation"])
        self.closed = counter("flowengine_cases_closed", "Cases that reached a final state",
                              ["process", "state"])

    @property
    def observing(self) -> bool:
        """Off until `[metrics]` is configured: the engine then skips these observer hooks
        altogether instead of calling them to do nothing on every commit."""
        return self.enabled

    def exposition(self) -> bytes:
        """The counters in Prometheus' text format (what /metrics serves)."""
        return generate_latest(self.registry)

    @hookimpl
    def flowengine_configure(self, settings: Settings) -> None:
        section = settings.section("metrics")
        if "metrics" in settings.sections:
            self.enabled = True
        port = section.get("port")
        if port is None or self.served_port is not None:
            return
        start_http_server(int(port), str(section.get("address", "127.0.0.1")),
                          registry=self.registry)
        self.served_port = int(port)
        log.info("metrics served on port %s", port)

    @hookimpl
    def flowengine_case_started(self, case: Case) -> None:
        if self.enabled:
            self.started.labels(case.process_id).inc()

    @hookimpl
    def flowengine_transition_applied(self, case: Case, event: Event) -> None:
        if self.enabled:
            self.fires.labels(case.process_id, event.trigger or "").inc()

    @hookimpl
    def flowengine_trigger_rejected(self, case: Case, trigger: str, actor: Actor) -> None:
        if self.enabled:
            self.rejections.labels(case.process_id, trigger).inc()

    @hookimpl
    def flowengine_deadline_warning(self, case: Case, deadline: str) -> None:
        if self.enabled:
            self.warnings.labels(case.process_id, deadline).inc()

    @hookimpl
    def flowengine_deadline_overdue(self, case: Case, deadline: str) -> None:
        if self.enabled:
            self.overdue.labels(case.process_id, deadline).inc()

    @hookimpl
    def flowengine_deadline_expired(self, case: Case, deadline: str) -> None:
        if self.enabled:
            self.expired.labels(case.process_id, deadline).inc()

    @hookimpl
    def flowengine_deadline_extended(self, case: Case, deadline: str) -> None:
        if self.enabled:
            self.extended.labels(case.process_id, deadline).inc()

    @hookimpl
    def flowengine_case_closed(self, case: Case, event: Event) -> None:
        if self.enabled:
            self.closed.labels(case.process_id, event.dest or "").inc()

    @hookimpl
    def flowengine_case_failed(self, case: Case, operation: str) -> None:
        if self.enabled:
            self.failures.labels(case.process_id, operation).inc()

    def value(self, name: str, **labels: Any) -> float:
        """One sample's current value (0 when never counted); handy in tests."""
        found = self.registry.get_sample_value(name, labels)
        return found or 0.0


plugin = Metrics(enabled=False)  # the entry-point instance: counts once configured
