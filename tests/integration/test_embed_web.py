"""The embedding example serves a real HTTP API on 127.0.0.1 over a real SQLite file, with
the host's own SQLAlchemy engine and clock."""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server
from zoneinfo import ZoneInfo

import pytest

from flowengine import SimulatedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import embed_web  # noqa: E402


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    clock = SimulatedClock(datetime(2026, 8, 3, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    app = embed_web.App(embed_web.build_engine(f"sqlite:///{tmp_path / 'web.db'}", clock))
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def call(url: str, body: dict | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_start_fire_refuse_and_read_back(base_url: str) -> None:
    status, case = call(f"{base_url}/cases", {"process": "standard_case", "actor": "王芳",
                                              "role": "clerk",
                                              "data": {"petitioner": "张三", "subject": "噪音"}})
    assert status == 201 and case["state"] == "registered"
    status, body = call(f"{base_url}/cases/{case['id']}/fire",
                        {"trigger": "close", "actor": "王芳", "role": "clerk"})
    assert status == 409 and "allowed here" in body["reasons"][0]
    status, case = call(f"{base_url}/cases/{case['id']}/fire",
                        {"trigger": "accept", "actor": "王芳", "role": "clerk"})
    assert status == 200 and case["state"] == "accepted"
    handling = next(d for d in case["deadlines"] if d["name"] == "handling")
    assert handling["due_date"] == "2026-10-08"
    assert call(f"{base_url}/cases/{case['id']}")[1]["state"] == "accepted"
    assert call(f"{base_url}/cases/NOPE")[0] == 404
