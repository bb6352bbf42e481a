"""The shipped channels without a network: configuration switches them on, messages are
built as documented, the JSON-lines log honours the idempotency key across restarts."""

from __future__ import annotations

import io
import json
from email import message_from_bytes
from pathlib import Path
from typing import Any, cast

import pytest
from flowengine_console import ConsoleChannel
from flowengine_jsonl import JsonlChannel
from flowengine_smtp import SmtpChannel, build_message
from flowengine_webhook import WebhookChannel, sign, verify

from flowengine.plugins import DeliveryError, Notification, Recipient
from flowengine.plugins.settings import Settings
from tests.support.plugins import T0

NOTE = Notification(
    id="C1:3:0:email", channel="email", case_id="C1", seq=3, kind="extension",
    created_at=T0, name="extension_notice", to=("petitioner", "supervisor"),
    recipients=(Recipient("petitioner", "张三", ("zs@example.com", "13800000000")),
                Recipient("supervisor", "supervisor", ("督办科 <duban@example.gov.cn>",))),
    messages={"en": "extended because of X", "zh": "因X延长"}, deadline="handling",
    due="2026-06-01", reason="X")


def _as(channel: str) -> Notification:
    from dataclasses import replace

    return replace(NOTE, id=f"C1:3:0:{channel}", channel=channel)


def test_unconfigured_channels_serve_nothing_and_settings_switch_them_on(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plugins: list[Any] = [ConsoleChannel(), JsonlChannel(), SmtpChannel(), WebhookChannel()]
    for p in plugins:
        p.flowengine_configure(Settings())
    assert [p.flowengine_channels() for p in plugins] == [[], [], [], []]
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    on = Settings.from_mapping({
        "console": {"enabled": True}, "jsonl": {"path": str(tmp_path / "n.jsonl")},
        "smtp": {"host": "127.0.0.1", "sender": "x@example.com"},
        "webhook": {"url": "http://127.0.0.1:9/", "secret_env": "HOOK_SECRET"}})
    for p in plugins:
        p.flowengine_configure(on)
    assert [p.flowengine_channels() for p in plugins] == [
        ["console"], ["jsonl"], ["email"], ["webhook"]]
    assert [p.flowengine_deliver(NOTE) for p in plugins[:2]] == [None, None]  # not theirs


def test_console_prints_every_language_chinese_first() -> None:
    out = io.StringIO()
    assert ConsoleChannel(out).flowengine_deliver(_as("console")) == "printed"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✉ C1 extension → petitioner 张三 <zs@example.com, 13800000000>")
    assert lines[1:] == ["    zh: 因X延长", "    en: extended because of X"]


def test_jsonl_appends_once_per_key_even_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "log" / "n.jsonl"
    first = JsonlChannel(path)
    assert cast(str, first.flowengine_deliver(_as("jsonl"))).startswith("appended")
    assert first.flowengine_deliver(_as("jsonl")) == "already in the log"
    restarted = JsonlChannel(path)  # a new worker process: knows nothing yet
    assert restarted.flowengine_deliver(_as("jsonl")) == "already in the log"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["reason"] == "X"


def test_the_e_mail_carries_the_key_and_goes_to_e_mail_addresses_only() -> None:
    msg = message_from_bytes(build_message(NOTE, "信访办 <xf@example.gov.cn>").as_bytes())
    assert msg["To"] == "zs@example.com, =?utf-8?b?552j5Yqe56eR?= <duban@example.gov.cn>"
    assert msg["X-Flowengine-Idempotency-Key"] == "C1:3:0:email"
    assert msg["Message-ID"] == build_message(NOTE, "a@b.c")["Message-ID"]  # stable per key
    body = cast(bytes, msg.get_payload(decode=True)).decode("utf-8")
    assert body.index("因X延长") < body.index("extended because of X")


def test_an_e_mail_without_address_is_a_refusal() -> None:
    from dataclasses import replace

    lonely = replace(NOTE, recipients=(Recipient("petitioner", "张三", ("13800000000",)),))
    with pytest.raises(DeliveryError, match="no e-mail address for petitioner") as info:
        build_message(lonely, "a@b.c")
    assert info.value.retryable is False


def test_signature_helpers() -> None:
    body = b'{"a":1}'
    header = sign("s3cret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify("s3cret", body, header)
    assert not verify("other", body, header) and not verify("s3cret", body + b" ", header)
    assert not verify("s3cret", body, None)
