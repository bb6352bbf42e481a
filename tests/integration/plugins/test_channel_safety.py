"""Safe channels (issue 14, item 6), against the real loopback servers: a contact that
holds several addresses never reaches SMTP (dead letter, nothing extra sent), a webhook
URL that is not http(s) is refused and never "delivered", and only a 2xx answer is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flowengine_smtp import SmtpChannel
from flowengine_webhook import WebhookChannel

from flowengine import InvalidData
from flowengine.plugins.settings import Settings, SettingsError
from tests.support.delivery_servers import SmtpServer, WebhookReceiver
from tests.support.plugins import CLERK, accepted_case, make_engine

SECRET = "s3cret"


def _mail(server: SmtpServer) -> SmtpChannel:
    return SmtpChannel("127.0.0.1", server.port, security="none",
                       sender="信访办 <xinfang@example.gov.cn>", timeout=5)


def _settings(**recipients: Any) -> Settings:
    return Settings.from_mapping({"delivery": {"backoff_seconds": 60, "max_attempts": 5},
                                  "recipients": recipients})


@pytest.mark.parametrize("contact", [
    "zs@example.com, victim1@evil.com",
    "张三 <zs@example.com>, 李四 <victim1@evil.com>",
    "zs@example.com victim1@evil.com",
    "friends: zs@example.com, victim1@evil.com;",
    "zs@example.com;victim1@evil.com",
    '"zs@example.com" <victim1@evil.com>',
])
def test_a_contact_with_more_than_one_address_is_a_dead_letter_and_nothing_is_sent(
        smtp_server: SmtpServer, contact: str) -> None:
    smtp_server.start()
    engine, clock = make_engine(_mail(smtp_server), _settings())
    case = accepted_case(engine, contact=contact)
    report = engine.plugins.deliver_due()
    assert report.dead == [f"{case.id}:2:0:email"] and not report.delivered
    [row] = engine.store.outbox()
    assert (row.status, row.attempts) == ("dead", 1)  # a refusal: not retried for ever
    assert "is not one e-mail address" in (row.last_error or "")
    clock.advance(timedelta(days=1))
    assert engine.plugins.deliver_due().delivered == []
    assert smtp_server.mailbox.messages == []


@pytest.mark.parametrize("address", ["duban@example.gov.cn\x00victim1@evil.com",
                                     "duban@example.gov.cn\r\nBcc: victim1@evil.com",
                                     "duban@example.gov.cn\nvictim1@evil.com"])
def test_control_characters_in_an_address_book_entry_are_refused(
        smtp_server: SmtpServer, address: str) -> None:
    """Case data cannot carry CR/LF/NUL (refused at entry); the address book could."""
    smtp_server.start()
    engine, clock = make_engine(_mail(smtp_server), _settings(roles={"supervisor": [address]}))
    case = accepted_case(engine)
    clock.advance(timedelta(days=200))
    engine.tick()  # the overdue notices go to the supervisor
    engine.plugins.deliver_due()
    refused = [r for r in engine.store.outbox()
               if "is not one e-mail address" in (r.last_error or "")]
    assert refused and all(r.status == "dead" and r.attempts == 1 for r in refused)
    assert [rcpt for rcpt, _ in smtp_server.mailbox.messages] == [["zhangsan@example.com"]]
    assert smtp_server.mailbox.by_key().keys() == {f"{case.id}:2:0:email"}


def test_one_address_with_a_display_name_gets_exactly_that_address(
        smtp_server: SmtpServer) -> None:
    smtp_server.start()
    engine, _ = make_engine(_mail(smtp_server), _settings())
    case = accepted_case(engine, contact="张三 <zs@example.com>")
    assert engine.plugins.deliver_due().delivered == [f"{case.id}:2:0:email"]
    [(rcpt, message)] = smtp_server.mailbox.messages
    assert rcpt == ["zs@example.com"] and "zs@example.com" in message["To"]


@pytest.mark.parametrize("contact", ["zs@example.com\r\nBcc: victim1@evil.com",
                                     "zs@example.com\nvictim1@evil.com",
                                     "zs@example.com\x00victim1@evil.com",
                                     "zs@example.com\u2028victim1@evil.com"])
def test_line_breaks_and_nul_in_a_one_line_field_are_refused_at_entry(contact: str) -> None:
    engine, _ = make_engine()
    with pytest.raises(InvalidData, match="contact (is one line of text|contains a NUL)"):
        engine.start("standard_case", {"petitioner": "张三", "subject": "路灯",
                                       "contact": contact}, actor=CLERK)
    assert engine.cases() == []


def test_a_text_field_keeps_its_lines_but_not_nul() -> None:
    engine, _ = make_engine()
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "路灯\n不亮"},
                        actor=CLERK)
    assert case.data["subject"] == "路灯\n不亮"
    with pytest.raises(InvalidData, match="subject contains a NUL character"):
        engine.start("standard_case", {"petitioner": "李四", "subject": "路灯\x00"},
                     actor=CLERK)


# -- webhooks ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/plain,hello",
                                 "ftp://127.0.0.1/x", "javascript:alert(1)", "http:///nohost"])
def test_a_webhook_url_that_is_not_http_is_refused_when_set_up(url: str) -> None:
    with pytest.raises(ValueError, match="is not an http:// or https:// URL"):
        WebhookChannel(url, secret=SECRET)
    with pytest.raises(SettingsError, match=r"hooks.toml: \[webhook\] url must be an http:// or "
                       r"https:// URL"):
        Settings.from_mapping({"webhook": {"url": url}}, source="hooks.toml")


def test_a_webhook_url_changed_after_set_up_is_refused_at_delivery(
        webhook: WebhookReceiver, tmp_path: Any) -> None:
    secret_file = tmp_path / "passwd"
    secret_file.write_text("root:x:0:0\n", encoding="utf-8")
    hook = WebhookChannel(webhook.url, secret=SECRET)
    engine, _ = make_engine(hook, _settings())
    case = accepted_case(engine)
    hook.url = secret_file.as_uri()
    report = engine.plugins.deliver_due()
    assert report.dead == [f"{case.id}:2:0:webhook"] and report.delivered == []
    assert "is not an http:// or https:// URL" in (engine.store.outbox()[0].last_error or "")
    assert webhook.requests == []


def test_the_allow_list_of_hosts(webhook: WebhookReceiver,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWENGINE_WEBHOOK_SECRET", SECRET)
    allowed = Settings.from_mapping({"webhook": {"url": webhook.url,
                                                 "allowed_hosts": ["127.0.0.1"]}})
    engine, _ = make_engine(WebhookChannel(), allowed)
    accepted_case(engine)
    assert len(engine.plugins.deliver_due().delivered) == 1 and len(webhook.requests) == 1

    elsewhere = Settings.from_mapping({"webhook": {"url": webhook.url,
                                                   "allowed_hosts": ["oa.example.gov.cn"]}},
                                      source="notify.toml")
    with pytest.raises(SettingsError, match=r"notify.toml: \[webhook\] url: the host "
                       r"127.0.0.1 .* is not in allowed_hosts \(oa.example.gov.cn\)"):
        make_engine(WebhookChannel(), elsewhere)
    with pytest.raises(ValueError, match="not in allowed_hosts"):
        WebhookChannel(webhook.url, secret=SECRET, allowed_hosts=["oa.example.gov.cn"])


@pytest.mark.parametrize(("status", "outcome"), [
    (200, "delivered"), (202, "delivered"), (204, "delivered"),
    (301, "dead"), (302, "dead"), (307, "dead"), (400, "dead"), (404, "dead"),
    (408, "retrying"), (429, "retrying"), (500, "retrying"), (503, "retrying")])
def test_only_a_2xx_answer_is_delivered(webhook: WebhookReceiver, status: int,
                                        outcome: str) -> None:
    webhook.script.append(status)
    engine, _ = make_engine(WebhookChannel(webhook.url, secret=SECRET), _settings())
    case = accepted_case(engine)
    report = engine.plugins.deliver_due().as_dict()
    assert report[outcome] == [f"{case.id}:2:0:webhook"]
    assert len(webhook.requests) == 1
    if outcome != "delivered":
        assert f"HTTP {status}" in (engine.store.outbox()[0].last_error or "")
