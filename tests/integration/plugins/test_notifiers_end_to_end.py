"""The issue's finish line: a standard case is extended and goes overdue; the petitioner's
extension notice and the supervisor's overdue notice go out through the console, the
JSON-lines file, e-mail and the webhook, each exactly once (docs/plugins.md shows the run).
Also `flowengine plugins` and `notifications deliver` on a real database."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flowengine_console import ConsoleChannel
from flowengine_jsonl import JsonlChannel
from flowengine_smtp import SmtpChannel
from flowengine_webhook import SIGNATURE_HEADER, WebhookChannel, verify

from flowengine import Engine, SimulatedClock
from flowengine.cli import _register, cli
from flowengine.plugins.settings import Settings
from tests.support.delivery_servers import SmtpServer, WebhookReceiver
from tests.support.plugins import PROCESSES, T0, accepted_case, extend, make_engine

SETTINGS = Settings.from_mapping({
    "recipients": {"roles": {"supervisor": ["督办科 <duban@example.gov.cn>"]},
                   "people": {"王芳": ["wangfang@example.gov.cn"]}}})


def test_extension_and_overdue_through_all_four_channels(
        smtp_server: SmtpServer, webhook: WebhookReceiver, tmp_path: Path) -> None:
    smtp_server.start()
    out, log = io.StringIO(), tmp_path / "notifications.jsonl"
    engine, clock = make_engine(
        ConsoleChannel(out), JsonlChannel(log),
        SmtpChannel("127.0.0.1", smtp_server.port, security="none", sender="xf@example.gov.cn"),
        WebhookChannel(webhook.url, secret="k"), SETTINGS)
    case = accepted_case(engine)
    extend(engine, case.id, reason="需要向市规划局调取资料")
    clock.advance(timedelta(days=100))
    engine.tick()
    report = engine.plugins.deliver_due()
    assert len(report.delivered) == 16 and not (report.retrying or report.dead)  # 4 x 4

    ext, over = f"{case.id}:3:0", f"{case.id}:5:0"
    printed = out.getvalue()
    assert f"✉ {case.id} extension → petitioner 张三 <zhangsan@example.com>" in printed
    assert f"✉ {case.id} overdue → supervisor <督办科 <duban@example.gov.cn>>" in printed
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert {x["notification_id"] for x in lines} >= {ext, over} and len(lines) == 4
    mails = smtp_server.mailbox.by_key()
    assert mails[f"{ext}:email"][0] == ["zhangsan@example.com"]
    assert mails[f"{over}:email"][0] == ["duban@example.gov.cn"]
    posts = {r.headers["Idempotency-Key"]: r for r in webhook.requests}
    assert posts[f"{over}:webhook"].json()["kind"] == "overdue"
    assert all(verify("k", r.body, r.headers[SIGNATURE_HEADER]) for r in webhook.requests)
    assert engine.plugins.deliver_due(clock.now() + timedelta(days=30)).delivered == []
    assert len(webhook.requests) == 4 and len(smtp_server.mailbox.messages) == 4


def test_plugins_command_lists_shipped_and_given_plugins() -> None:
    _register()
    result = CliRunner().invoke(cli, ["plugins", "--json", "--plugin",
                                      "flowengine_jsonl:JsonlChannel"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    by_name = {p["name"]: p for p in doc["plugins"]}
    if "smtp" in by_name:  # installed: the shipped plugins come from the entry points
        assert by_name["smtp"]["source"].startswith("entry point flowengine.plugins: smtp")
    given = [p for p in doc["plugins"] if p["source"].startswith("passed by the host")]
    assert [p["name"] for p in given] == ["flowengine_jsonl.JsonlChannel"]
    assert given[0]["source"].endswith("flowengine_jsonl/__init__.py")
    # a class instead of an instance is a mistake: it is shown, with its hook failures
    assert any("JsonlChannel" in e and "flowengine_channels" in e for e in doc["errors"])


def test_notifications_deliver_command_uses_the_settings_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "notify.toml"
    config.write_text(f'[jsonl]\npath = "{tmp_path / "n.jsonl"}"\n', encoding="utf-8")
    monkeypatch.setenv("FLOWENGINE_NOTIFY_CONFIG", str(config))
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    engine = Engine(url, processes=[PROCESSES], clock=SimulatedClock(T0),
                    plugins=[JsonlChannel(tmp_path / "n.jsonl")])
    case = accepted_case(engine)
    _register()
    runner = CliRunner()
    result = runner.invoke(cli, ["notifications", "deliver", "--json", "--db", url,
                                 "--now", "2026-03-02T10:00"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["delivered"] == [f"{case.id}:2:0:jsonl"]
    listed = runner.invoke(cli, ["notifications", "list", "--db", url, "--case", case.id])
    assert "delivered" in listed.output and "1 notification(s)" in listed.output
