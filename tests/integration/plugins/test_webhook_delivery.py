"""Webhook through a real HTTP server (http.server on 127.0.0.1): the signature verifies
with the shared secret, 5xx is retried with the same idempotency key, a 4xx dead-letters
after the configured attempts, and `flowengine notifications retry` revives it (on a
SQLite database, through the CLI)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from flowengine_webhook import SIGNATURE_HEADER, WebhookChannel, verify

from flowengine import Engine, SimulatedClock, SystemClock
from flowengine.cli import _register, cli
from flowengine.plugins.settings import Settings
from tests.support.delivery_servers import WebhookReceiver
from tests.support.plugins import PROCESSES, T0, accepted_case, extend, make_engine

SECRET = "共享密钥-s3cret"


def _settings(**delivery: object) -> Settings:
    return Settings.from_mapping({"delivery": {"backoff_seconds": 60, **delivery}})


def _hook(receiver: WebhookReceiver, timeout: float = 5) -> WebhookChannel:
    return WebhookChannel(receiver.url, secret=SECRET, timeout=timeout)


def test_the_signature_verifies_with_the_shared_secret(webhook: WebhookReceiver) -> None:
    engine, _ = make_engine(_hook(webhook), _settings())
    case = accepted_case(engine)
    extend(engine, case.id, reason="需要补充调查")
    assert len(engine.plugins.deliver_due().delivered) == 2
    got = webhook.requests[1]
    assert verify(SECRET, got.body, got.headers[SIGNATURE_HEADER])
    assert not verify("wrong secret", got.body, got.headers[SIGNATURE_HEADER])
    assert got.headers["Idempotency-Key"] == f"{case.id}:3:0:webhook"
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    doc = got.json()
    assert (doc["kind"], doc["reason"], doc["case"]) == ("extension", "需要补充调查", case.id)
    assert doc["recipients"][0]["addresses"] == ["zhangsan@example.com"]


def test_server_errors_are_retried_with_the_same_key(webhook: WebhookReceiver) -> None:
    webhook.script.extend([500, 503])
    engine, clock = make_engine(_hook(webhook), _settings())
    accepted_case(engine)
    assert engine.plugins.deliver_due().retrying
    clock.advance(timedelta(seconds=60))
    assert engine.plugins.deliver_due().retrying
    assert "HTTP 503" in (engine.store.outbox()[0].last_error or "")
    clock.advance(timedelta(seconds=120))
    assert engine.plugins.deliver_due().delivered
    keys = {r.headers["Idempotency-Key"] for r in webhook.requests}
    assert len(webhook.requests) == 3 and len(keys) == 1


def test_a_slow_server_times_out_and_is_retried(webhook: WebhookReceiver) -> None:
    webhook.delay = 1.0
    engine, clock = make_engine(_hook(webhook, timeout=0.2), _settings())
    accepted_case(engine)
    assert engine.plugins.deliver_due().retrying
    assert "timed out" in (engine.store.outbox()[0].last_error or "")


def test_a_client_error_dead_letters_and_the_cli_retries_it(
        webhook: WebhookReceiver, tmp_path: Path) -> None:
    webhook.script.extend([404, 410])
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    clock = SimulatedClock(T0)
    plugins = [_hook(webhook), _settings(permanent_attempts=2)]
    engine = Engine(url, processes=[PROCESSES], clock=clock, plugins=plugins)
    case = accepted_case(engine)
    row_id = f"{case.id}:2:0:webhook"
    assert engine.plugins.deliver_due().retrying == [row_id]
    clock.advance(timedelta(seconds=60))
    assert engine.plugins.deliver_due().dead == [row_id]
    assert len(webhook.requests) == 2

    _register()
    runner = CliRunner()
    listed = runner.invoke(cli, ["notifications", "list", "--failed", "--json", "--db", url])
    assert listed.exit_code == 0, listed.output
    [dead] = json.loads(listed.output)["notifications"]
    assert (dead["id"], dead["status"], dead["attempts"]) == (row_id, "dead", 2)
    assert dead["last_error"] == f"DeliveryError: HTTP 410 from {webhook.url}"
    retried = runner.invoke(cli, ["notifications", "retry", row_id, "--db", url])
    assert retried.exit_code == 0 and "1 notification(s) pending again" in retried.output
    again = runner.invoke(cli, ["notifications", "retry", row_id, "--db", url])
    assert again.exit_code == 2  # no dead letter by that id any more

    # the CLI ran on the system clock: the revived row is due from the real now
    later = SystemClock().now() + timedelta(minutes=1)
    reopened = Engine(url, processes=[PROCESSES], clock=SimulatedClock(later), plugins=plugins)
    [row] = reopened.store.outbox()
    assert (row.status, row.attempts) == ("pending", 0)
    assert reopened.plugins.deliver_due().delivered == [row_id]
    assert len(webhook.requests) == 3
