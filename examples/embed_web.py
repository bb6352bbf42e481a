"""Embedding flowengine in a small web application (standard library WSGI only).

The host owns the database engine, the clock and the plugins; flowengine gets them passed
in. A JSON API over the engine:

    POST /cases                 {"process", "data", "actor", "role"}      -> 201 the case
    POST /cases/<id>/fire       {"trigger", "data", "actor", "role"}      -> 200 the case
    GET  /cases/<id>                                                      -> 200 the case
    GET  /cases?overdue=1                                                 -> 200 a list
A refused trigger is 409 with the reasons; an unknown case 404; bad input 400; a database
busy for the whole wait 503 (`StoreBusy`: retry). Served by a thread per request: the engine is
thread-safe, each call checks a connection out of the host's pool and returns it.

Run it:  python examples/embed_web.py --db sqlite:///web.db --port 8080
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import sqlalchemy

from flowengine import (
    Actor,
    Case,
    CaseNotFound,
    Engine,
    FlowengineError,
    StoreBusy,
    SystemClock,
    TriggerRejected,
)

HERE = Path(__file__).resolve().parent
Start = Callable[[str, list[tuple[str, str]]], Any]


def case_json(case: Case) -> dict[str, Any]:
    return case.to_dict()


class ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request (the standard library's threaded WSGI server).

    `request_queue_size`: the listen backlog. socketserver's default of 5 lets a burst of
    clients overflow it while the accepting thread waits for a core, and the kernel then
    resets their connections; a server taking concurrent requests needs a real backlog."""

    daemon_threads = True
    request_queue_size = 128


def serve(app: App, port: int, handler: type[WSGIRequestHandler] = WSGIRequestHandler) -> ThreadingServer:
    """A threaded server for `app` on 127.0.0.1 (`port` 0: any free port)."""
    server = make_server("127.0.0.1", port, app, server_class=ThreadingServer,
                         handler_class=handler)
    assert isinstance(server, ThreadingServer)
    return server


class App:
    """A WSGI application around one Engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        try:
            status, body = self.route(environ)
        except TriggerRejected as exc:
            status, body = "409 Conflict", {"error": str(exc),
                                            "reasons": [r.message for r in exc.reasons]}
        except CaseNotFound as exc:
            status, body = "404 Not Found", {"error": str(exc)}
        except StoreBusy as exc:
            status, body = "503 Service Unavailable", {"error": str(exc)}
        except (FlowengineError, ValueError, KeyError) as exc:
            status, body = "400 Bad Request", {"error": str(exc)}
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        start(status, [("Content-Type", "application/json; charset=utf-8"),
                       ("Content-Length", str(len(data)))])
        return [data]

    def route(self, environ: dict[str, Any]) -> tuple[str, Any]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "POST" and path == "/cases":
            req = _body(environ)
            case = self.engine.start(req["process"], req.get("data") or {}, actor=_actor(req))
            return "201 Created", case_json(case)
        fire = re.fullmatch(r"/cases/([^/]+)/fire", path)
        if method == "POST" and fire:
            req = _body(environ)
            case = self.engine.fire(fire.group(1), req["trigger"], req.get("data") or {},
                                    actor=_actor(req))
            return "200 OK", case_json(case)
        one = re.fullmatch(r"/cases/([^/]+)", path)
        if method == "GET" and one:
            return "200 OK", case_json(self.engine.case(one.group(1)))
        if method == "GET" and path == "/cases":
            overdue = "overdue=1" in environ.get("QUERY_STRING", "") or None
            return "200 OK", [case_json(c) for c in self.engine.cases(overdue=overdue)]
        return "404 Not Found", {"error": f"no route {method} {path}"}


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    size = int(environ.get("CONTENT_LENGTH") or 0)
    doc = json.loads(environ["wsgi.input"].read(size) or b"{}")
    if not isinstance(doc, dict):
        raise ValueError("the request body must be a JSON object")
    return doc


def _actor(req: dict[str, Any]) -> Actor:
    return Actor(str(req.get("actor") or "web"), req.get("role"))


def build_engine(db_url: str, clock: Any = None) -> Engine:
    """The host makes its own SQLAlchemy engine (pool, echo, …) and hands it over."""
    host_db = sqlalchemy.create_engine(db_url)
    return Engine(db=host_db, processes=[HERE.parent / "processes"], clock=clock or SystemClock())


def main() -> None:
    ap = argparse.ArgumentParser(description="flowengine embedded in a tiny JSON web API")
    ap.add_argument("--db", default="sqlite:///web.db")
    ap.add_argument("--port", type=int, default=8080)
    args = ap.parse_args()
    with serve(App(build_engine(args.db)), args.port) as server:
        print(f"serving on http://127.0.0.1:{args.port}")
        server.serve_forever()


if __name__ == "__main__":
    main()
