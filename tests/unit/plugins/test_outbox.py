"""The outbox: which rows a commit writes, and how delivery moves them (retries with
backoff from the engine clock, dead letters, retry, timeouts, immediate mode)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from flowengine import TriggerRejected
from flowengine.plugins import DeliveryError
from flowengine.plugins.outbox import rows_for
from flowengine.plugins.settings import DeliveryPolicy
from tests.support.plugins import (
    PROCESSES,
    T0,
    RecordingChannel,
    accepted_case,
    extend,
    make_engine,
    settings,
)


def test_each_notification_gets_one_row_per_default_channel_in_the_same_append() -> None:
    a, b = RecordingChannel("a"), RecordingChannel("b")
    engine, _ = make_engine(a, b, settings())
    case = accepted_case(engine)
    rows = engine.store.outbox(case_id=case.id)
    assert [r.id for r in rows] == [f"{case.id}:2:0:a", f"{case.id}:2:0:b"]
    assert all(r.status == "pending" and r.created_at == T0 for r in rows)
    assert rows[0].payload["kind"] == "acceptance_letter"
    with pytest.raises(TriggerRejected):
        engine.fire(case.id, "close")
    assert len(engine.store.outbox()) == 2  # a refused trigger writes nothing


def test_default_channels_setting_narrows_and_no_channel_means_no_rows() -> None:
    engine, _ = make_engine(RecordingChannel("a"), RecordingChannel("b"),
                            settings(default_channels=["b", "nobody"]))
    accepted_case(engine)
    assert [r.channel for r in engine.store.outbox()] == ["b"]
    bare, _ = make_engine(settings())
    case = accepted_case(bare)
    assert bare.store.outbox() == []
    assert bare.history(case.id)[-1].notifications  # still recorded in the event


def test_a_channel_named_in_the_yaml_gets_the_only_row_served_or_not(tmp_path: Path) -> None:
    text = (Path(PROCESSES) / "standard_case.yaml").read_text(encoding="utf-8")
    text = text.replace("  acceptance_letter:\n    title: 受理告知书\n",
                        "  acceptance_letter:\n    title: 受理告知书\n    channel: sms\n")
    (tmp_path / "standard_case.yaml").write_text(text, encoding="utf-8")
    engine, _ = make_engine(RecordingChannel("a"), settings(max_attempts=2, backoff_seconds=60))
    engine.load(tmp_path / "standard_case.yaml")
    case = accepted_case(engine)
    assert [r.channel for r in engine.store.outbox(case_id=case.id)] == ["sms"]
    assert engine.plugins.deliver_due().retrying == [f"{case.id}:2:0:sms"]
    assert engine.plugins.deliver_due(T0 + timedelta(minutes=1)).dead == [f"{case.id}:2:0:sms"]
    assert "no plugin serves the channel 'sms'" in (engine.store.outbox()[0].last_error or "")


def test_backoff_doubles_from_the_base_and_is_capped() -> None:
    policy = DeliveryPolicy(backoff=timedelta(seconds=60), backoff_factor=2,
                            backoff_max=timedelta(minutes=5))
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 300, 300]
    assert policy.limit(True) == 8 and policy.limit(False) == 1


def test_transient_failures_wait_for_the_backoff_then_dead_letter_and_can_be_retried() -> None:
    failing = {"on": True}
    channel = RecordingChannel(fail=lambda n: OSError("refused") if failing["on"] else None)
    engine, clock = make_engine(channel, settings(max_attempts=3, backoff_seconds=60))
    case = accepted_case(engine)
    row_id = f"{case.id}:2:0:test"
    assert engine.plugins.deliver_due().retrying == [row_id]
    row = engine.store.outbox()[0]
    assert (row.attempts, row.next_attempt_at) == (1, T0 + timedelta(seconds=60))
    assert "OSError: refused" in (row.last_error or "")
    clock.advance(timedelta(seconds=59))
    assert engine.plugins.deliver_due().as_dict() == {"delivered": [], "retrying": [],
                                                      "dead": [], "busy": []}
    clock.advance(timedelta(seconds=1))
    assert engine.plugins.deliver_due().retrying == [row_id]
    assert engine.store.outbox()[0].next_attempt_at == clock.now() + timedelta(seconds=120)
    clock.advance(timedelta(seconds=120))
    assert engine.plugins.deliver_due().dead == [row_id]
    clock.advance(timedelta(days=1))
    assert engine.plugins.deliver_due().dead == []  # a dead letter is left alone
    failing["on"] = False
    assert engine.store.retry_outbox(row_id, clock.now()) == 1
    assert engine.plugins.deliver_due().delivered == [row_id]
    assert {n.id for n in channel.calls} == {row_id}  # the same idempotency key every time
    assert [n.attempt for n in channel.calls] == [1, 2, 3, 1]


def test_a_refusal_dead_letters_after_permanent_attempts() -> None:
    channel = RecordingChannel(fail=lambda n: DeliveryError("HTTP 404", retryable=False))
    engine, clock = make_engine(channel, settings(permanent_attempts=2, backoff_seconds=10))
    accepted_case(engine)
    assert engine.plugins.deliver_due().retrying
    clock.advance(timedelta(seconds=10))
    assert engine.plugins.deliver_due().dead
    assert engine.store.outbox(status="dead")[0].attempts == 2


def test_a_hanging_channel_times_out_and_a_late_success_is_not_sent_again() -> None:
    channel = RecordingChannel()
    channel.gate = threading.Event()
    engine, clock = make_engine(channel, settings(timeout_seconds=0.2, backoff_seconds=1))
    case = accepted_case(engine)
    row_id = f"{case.id}:2:0:test"
    report = engine.plugins.deliver_due()
    assert report.retrying == [row_id]
    assert "timed out after 0.2 s" in (engine.store.outbox()[0].last_error or "")
    clock.advance(timedelta(seconds=5))
    assert engine.plugins.deliver_due().busy == [row_id]  # still running: not handed out again
    channel.gate.set()
    for _ in range(100):
        if channel.delivered:
            break
        threading.Event().wait(0.02)
    assert engine.plugins.deliver_due().delivered == [row_id]
    assert len(channel.calls) == 1 and engine.store.outbox()[0].status == "delivered"


def test_immediate_mode_delivers_right_after_the_fire() -> None:
    channel = RecordingChannel()
    engine, _ = make_engine(channel, settings(immediate=True))
    case = accepted_case(engine)
    extend(engine, case.id)
    assert [n.kind for n in channel.delivered] == ["acceptance_letter", "extension"]
    assert {r.status for r in engine.store.outbox()} == {"delivered"}
    assert engine.plugins.deliver_due().delivered == []


def test_rows_for_uses_the_event_instant_and_the_notification_id() -> None:
    engine, _ = make_engine(settings())
    case = accepted_case(engine)
    event = engine.history(case.id)[-1]
    rows = rows_for([event], ["x"])
    assert [(r.id, r.seq, r.created_at, r.next_attempt_at) for r in rows] == [
        (f"{case.id}:2:0:x", 2, event.at, event.at)]
