"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1): the extension notice reaches
the petitioner with its reason, the overdue notice the supervisor; with the server down
the notices wait and are retried after the backoff; a restarted worker sends nothing twice."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from typing import cast

from flowengine_smtp import SmtpChannel

from flowengine import Engine, SimulatedClock
from flowengine.plugins.settings import Settings
from tests.support.delivery_servers import SmtpServer
from tests.support.plugins import PROCESSES, accepted_case, extend, make_engine

SETTINGS = Settings.from_mapping({
    "delivery": {"backoff_seconds": 300, "max_attempts": 5},
    "recipients": {"roles": {"supervisor": ["督办科 <duban@example.gov.cn>"]},
                   "people": {"王芳": ["wangfang@example.gov.cn"]}},
})


def _mail(server: SmtpServer) -> SmtpChannel:
    return SmtpChannel("127.0.0.1", server.port, security="none",
                       sender="信访办 <xinfang@example.gov.cn>", timeout=5)


def test_extension_and_overdue_notices_arrive(smtp_server: SmtpServer) -> None:
    smtp_server.start()
    engine, clock = make_engine(_mail(smtp_server), SETTINGS)
    case = accepted_case(engine)
    extend(engine, case.id, reason="需要向市规划局调取资料")
    clock.advance(timedelta(days=120))
    engine.tick()
    report = engine.plugins.deliver_due()
    assert len(report.delivered) == 4 and not report.retrying
    mails = smtp_server.mailbox.by_key()
    rcpt, notice = mails[f"{case.id}:3:0:email"]
    assert rcpt == ["zhangsan@example.com"]
    body = cast(bytes, notice.get_payload(decode=True)).decode("utf-8")
    assert "因需要向市规划局调取资料" in body and "延长30日" in body
    assert str(make_header(decode_header(notice["Subject"]))) == f"延期告知 · {case.id}"
    overdue = [m for r, m in mails.values() if r == ["duban@example.gov.cn"]]
    assert len(overdue) == 1
    assert "督办" in cast(bytes, overdue[0].get_payload(decode=True)).decode("utf-8")


def test_server_down_then_up_delivers_once_even_after_a_worker_restart(
        smtp_server: SmtpServer) -> None:
    engine, clock = make_engine(_mail(smtp_server), SETTINGS)
    case = accepted_case(engine)
    extend(engine, case.id)
    first = engine.plugins.deliver_due()
    assert len(first.retrying) == 2 and not first.delivered
    assert all("127.0.0.1" in (r.last_error or "") for r in engine.store.outbox())
    assert engine.plugins.deliver_due().retrying == []  # not due before the backoff
    smtp_server.start()
    clock.advance(timedelta(seconds=299))
    assert engine.plugins.deliver_due().delivered == []
    clock.advance(timedelta(seconds=1))
    assert len(engine.plugins.deliver_due().delivered) == 2
    assert [r.attempts for r in engine.store.outbox()] == [2, 2]

    restarted = Engine(store=engine.store, processes=[PROCESSES],
                       clock=SimulatedClock(clock.now() + timedelta(days=1)),
                       plugins=[_mail(smtp_server), SETTINGS])
    assert restarted.plugins.deliver_due().delivered == []
    keys = [m["X-Flowengine-Idempotency-Key"] for _, m in smtp_server.mailbox.messages]
    assert sorted(keys) == [f"{case.id}:2:0:email", f"{case.id}:3:0:email"]
