"""The embedding example serves a real HTTP API on 127.0.0.1 over a real SQLite file, with
the host's own SQLAlchemy engine and clock, one thread per request (its own server)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler
from zoneinfo import ZoneInfo

import pytest

from flowengine import SimulatedClock
from tests.support.examples import load_example

embed_web = load_example("embed_web")


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    clock = SimulatedClock(datetime(2026, 8, 3, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    app = embed_web.App(embed_web.build_engine(f"sqlite:///{tmp_path / 'web.db'}", clock))
    server = embed_web.serve(app, 0, _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
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


def test_concurrent_requests(base_url: str) -> None:
    """24 clients at once, each starting a case and firing on it: more requests in flight
    than the host's pool has connections (5 + 10); every one answered, no 5xx."""

    def client(i: int) -> tuple[int, int, str]:
        status, case = call(f"{base_url}/cases", {
            "process": "standard_case", "actor": "王芳", "role": "clerk",
            "data": {"petitioner": f"信访人{i}", "subject": f"事项{i}"}})
        assert isinstance(case, dict)
        fired, after = call(f"{base_url}/cases/{case['id']}/fire",
                            {"trigger": "accept", "actor": "王芳", "role": "clerk"})
        assert isinstance(after, dict)
        return status, fired, after["state"]

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(client, range(48), timeout=120))
    assert results == [(201, 200, "accepted")] * 48
    status, listed = call(f"{base_url}/cases")
    assert status == 200 and isinstance(listed, list) and len(listed) == 48
