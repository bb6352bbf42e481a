"""`flowengine tick` runs the timers and then delivers what is due, through the plugins the
settings turn on (here the shipped JSON-lines channel, into a real file)."""

from __future__ import annotations

import json
from pathlib import Path


def test_tick_delivers_the_overdue_notice_exactly_once(cli, tmp_path: Path) -> None:
    log = tmp_path / "notifications.jsonl"
    config = tmp_path / "notify.toml"
    config.write_text(f'[jsonl]\npath = "{log}"\n[delivery]\ndefault_channels = ["jsonl"]\n',
                      encoding="utf-8")
    env = {"FLOWENGINE_NOTIFY_CONFIG": str(config)}
    case_id = cli.start()
    assert cli.fire(case_id, "accept", at="2026-03-02T10:00").code == 0
    first = cli("tick", "--now", "2026-06-01T09:00", "--json", env=env)
    assert first.code == 0, first.stderr
    doc = first.json()
    assert doc["delivery"]["delivered"] and not doc["delivery"]["dead"]
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [n["kind"] for n in lines if n.get("deadline") == "handling"].count("overdue") == 1
    again = cli("tick", "--now", "2026-06-01T09:00", "--json", env=env)
    assert again.json()["delivery"]["delivered"] == []
    assert len(log.read_text(encoding="utf-8").splitlines()) == len(lines)
