"""Options the case and operations commands share, and the one function that builds an
`Engine` from them.

Why one place: every command must read `--db`, `--processes` and `--plugin` the same way
(with the same environment variables and defaults, docs/cli.md), parse `--at` the same way
(no offset = Asia/Shanghai) and turn `--data`/`--set` into one mapping. Problems with an
option are click usage errors (exit 2), never tracebacks.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..clock import parse_instant
from ..engine.engine import Engine
from ..errors import FlowengineError
from ..records.case import Actor
from ..store import migrations
from ..store.access import require_file
from ..store.base import Store
from ..store.connect import hide_password
from ..store.errors import DatabaseUnavailable, StoreError
from ..store.translate import store_error

DEFAULT_DB = "sqlite:///flowengine.db"
DEFAULT_PROCESSES = "processes"

F = Callable[..., Any]


class ParsedType(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """An option value read by `parse` (which raises ValueError); a value that does not
    parse is a usage error (exit 2) saying what to write instead (`hint`)."""

    def __init__(self, name: str, parse: Callable[[str], Any], kind: type, hint: str) -> None:
        self.name, self.parse, self.kind, self.hint = name, parse, kind, hint

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, self.kind):
            return value
        try:
            return self.parse(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is {self.hint}", param, ctx)


# ISO 8601; without an offset the time is Asia/Shanghai local time.
INSTANT = ParsedType("TIME", parse_instant, datetime,
                     "not a time; write ISO 8601 such as 2026-03-02T09:00 (Asia/Shanghai) "
                     "or 2026-03-02T01:00:00+00:00")


def is_database_error(exc: BaseException) -> bool:
    """SQLAlchemy's errors and the DB-API drivers' own (the store also runs statements on
    raw DB-API connections); psycopg's are recognised by module, so it is not imported."""
    if isinstance(exc, (SQLAlchemyError, sqlite3.Error)):
        return True
    return type(exc).__module__.split(".")[0] in ("psycopg", "psycopg2")


class DatabaseProblem(FlowengineError):
    """The database refused a query: what happened (locked, a value out of range, …), and
    `db upgrade` only when its schema revision is really behind (exit 2)."""

    def __init__(self, url: str, exc: BaseException) -> None:
        found = exc if isinstance(exc, StoreError) else store_error(exc, None)
        detail = str(found) if found is not None else _first_line(getattr(exc, "orig", None) or exc)
        advice = ("; its schema is an older flowengine revision: run 'flowengine db upgrade'"
                  if migrations.behind(url) else "")
        super().__init__(f"database {hide_password(url)}: {detail}{advice}")


# How a command uses the database: "create" may create it (a new SQLite file), "write"
# needs it to exist, "read" opens it read-only and needs it to exist (docs/cli.md).
Access = Literal["create", "write", "read"]


@dataclass(frozen=True)
class EngineSpec:
    """Where the cases live, which process folders and plugins to load, and how the
    command uses the database."""

    db: str
    processes: tuple[str, ...]
    plugins: tuple[str, ...]
    access: Access = "write"
    immutable: bool = False


def engine_options(func: F) -> F:
    """Add --db, --processes, --plugin; the command receives them as `spec: EngineSpec`.
    For a command that writes to an existing database."""
    return _engine_options(func, "write")


def creating_engine_options(func: F) -> F:
    """`engine_options` for a command that may create the database (`case start`, …)."""
    return _engine_options(func, "create")


def reading_engine_options(func: F) -> F:
    """`engine_options` for a command that only reads: read-only, plus --immutable."""
    func = _engine_options(func, "read")
    return immutable_option(func)


def immutable_option(func: F) -> F:
    return click.option(
        "--immutable", is_flag=True,
        help="SQLite: open the file as immutable (no locks, no -wal/-shm files), for an "
             "evidence copy on read-only media that nothing else writes.")(func)


def _engine_options(func: F, access: Access) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, db: str, processes: tuple[str, ...], plugins: tuple[str, ...],
                **kwargs: Any) -> Any:
        immutable = bool(kwargs.pop("immutable", False))
        spec = EngineSpec(db, processes, plugins, access, immutable)
        try:
            return func(*args, spec=spec, **kwargs)
        except Exception as exc:  # never a traceback for a database that will not do
            if is_database_error(exc) or isinstance(exc, StoreError):
                raise DatabaseProblem(db, exc) from exc
            raise

    wrapper = click.option(
        "--plugin", "plugins", multiple=True, metavar="MODULE:OBJECT",
        help="A plugin object to load, e.g. mypkg.notify:plugin (repeatable).")(wrapper)
    wrapper = click.option(
        "--processes", "processes", multiple=True, envvar="FLOWENGINE_PROCESSES",
        type=click.Path(exists=True), metavar="DIR",
        help="Folder (or file) of process YAML (repeatable; env FLOWENGINE_PROCESSES, "
             f"separated by '{os.pathsep}'; default ./{DEFAULT_PROCESSES}).")(wrapper)
    return click.option(
        "--db", "db", envvar="FLOWENGINE_DB", default=DEFAULT_DB, show_default=True,
        metavar="URL", help="Database URL (env FLOWENGINE_DB).")(wrapper)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True,
                        help="Print exactly one JSON document on stdout.")(func)


def actor_options(func: F) -> F:
    """Add --actor/--role; the command receives `actor: Actor | None`."""

    @functools.wraps(func)
    def wrapper(*args: Any, actor_name: str | None, role: str | None, **kwargs: Any) -> Any:
        actor = Actor(actor_name or "unknown", role) if (actor_name or role) else None
        return func(*args, actor=actor, **kwargs)

    wrapper = click.option("--role", "role", envvar="FLOWENGINE_ROLE", metavar="ROLE",
                           help="The role the actor acts in (env FLOWENGINE_ROLE).")(wrapper)
    return click.option("--actor", "actor_name", envvar="FLOWENGINE_ACTOR", metavar="NAME",
                        help="Who does it (env FLOWENGINE_ACTOR).")(wrapper)


def at_option(func: F) -> F:
    return click.option("--at", "at", type=INSTANT, default=None,
                        help="When it happened (ISO 8601; no offset = Asia/Shanghai); "
                             "default now. Never earlier than the case's last event.")(func)


def data_options(func: F) -> F:
    """Add --data JSON and --set k=v; the command receives the merged `data` mapping."""

    @functools.wraps(func)
    def wrapper(*args: Any, data_json: str | None, sets: tuple[str, ...], **kwargs: Any) -> Any:
        return func(*args, data=merge_data(data_json, sets), **kwargs)

    wrapper = click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
                           help="Set one field (repeatable; wins over --data).")(wrapper)
    return click.option("--data", "data_json", metavar="JSON",
                        help='Field values as a JSON object, e.g. \'{"petitioner": "张三"}\'.'
                        )(wrapper)


def merge_data(data_json: str | None, sets: Sequence[str]) -> dict[str, Any]:
    """--data first, then each --set on top; values are typed by the process's fields."""
    data: dict[str, Any] = {}
    if data_json:
        from .json_input import DataJsonError, load_data_json

        try:
            data.update(load_data_json(data_json))
        except DataJsonError as exc:
            raise click.BadParameter(str(exc), param_hint="--data") from None
    for item in sets:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise click.BadParameter(f"'{item}' is not FIELD=VALUE", param_hint="--set")
        data[name.strip()] = value
    return data


def resolve_plugin(ref: str) -> Any:
    """`package.module:object.attr` -> the object (importlib), or a usage error."""
    module_name, colon, attr = ref.partition(":")
    if not colon or not module_name or not attr:
        raise click.BadParameter(f"'{ref}' is not MODULE:OBJECT", param_hint="--plugin")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise click.BadParameter(f"cannot import '{module_name}': {exc}",
                                 param_hint="--plugin") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise click.BadParameter(f"'{module_name}' has no '{attr}'",
                                     param_hint="--plugin") from None
    return obj


def open_store(url: str, access: Access = "write", immutable: bool = False) -> Store:
    """The durable store for `url`; a bad URL, a missing SQLite file (unless `access` is
    "create") or an unopenable database is a usage error naming the URL (password hidden)."""
    try:
        from ..store.sql import SqlStore
    except ImportError as exc:  # pragma: no cover - the SQL store ships with flowengine
        raise click.UsageError(f"the SQL store is not available: {exc}") from None
    if access != "create":
        _require_file(url)
    try:
        store: Store = SqlStore(url, read_only=access == "read", immutable=immutable)
    except FlowengineError as exc:  # its message names the URL (password hidden)
        from .advice import with_advice

        raise click.BadParameter(with_advice(exc), param_hint="--db") from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's errors (bad URL, unreachable server, …)
        raise click.BadParameter(f"cannot open {hide_password(url)}: {_first_line(exc)}",
                                 param_hint="--db") from None
    return store


def _require_file(url: str) -> None:
    """A usage error when `url` names a SQLite file that does not exist."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return  # not a URL: SqlStore says why
    try:
        require_file(parsed)
    except DatabaseUnavailable as exc:
        raise click.BadParameter(f"{exc} (check --db or FLOWENGINE_DB; 'flowengine db upgrade "
                                 "--db URL' creates a new database)", param_hint="--db") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def process_folders(spec: EngineSpec) -> list[str]:
    if spec.processes:
        return list(spec.processes)
    return [DEFAULT_PROCESSES] if Path(DEFAULT_PROCESSES).is_dir() else []


def open_engine(spec: EngineSpec, *, load_processes: bool = True) -> Engine:
    """The engine the command works on. Audit commands pass `load_processes=False`: they
    use only the definition versions pinned in the database, and write nothing."""
    plugins = [resolve_plugin(ref) for ref in spec.plugins]
    folders = process_folders(spec) if load_processes else []
    store = open_store(spec.db, spec.access, spec.immutable)
    engine = Engine(store=store, processes=folders, plugins=plugins)
    if folders:  # else nothing was loaded, and the registry (the compiler) is not made
        report_broken(engine)
    return engine


def report_broken(engine: Engine) -> None:
    """Name, once on stderr, each process file of a folder that could not be loaded; the
    folder's other processes work (a command that needs the broken one says so too)."""
    for path, exc in engine.registry.broken.items():
        click.echo(f"warning: {path} was not loaded (the other process files were):", err=True)
        for problem in exc.problems:
            if problem.severity == "error":
                click.echo(f"  {problem}", err=True)


def emit(as_json: bool, doc: Any, lines: Sequence[str]) -> None:
    """One JSON document, or plain lines."""
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        return
    for line in lines:
        click.echo(line)


__all__ = ["DEFAULT_DB", "Access", "EngineSpec", "INSTANT", "ParsedType", "actor_options",
           "at_option", "creating_engine_options", "data_options", "emit", "engine_options",
           "immutable_option", "json_option", "merge_data", "open_engine", "open_store",
           "reading_engine_options", "report_broken", "resolve_plugin"]
