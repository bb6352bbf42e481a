"""`flowengine plugins` and `flowengine notifications list|retry|deliver`.

`plugins` shows what is loaded and from where (entry point and distribution, or the file of
an object given with `--plugin`), the hooks each implements and the channels it serves now,
so "why did nobody get an e-mail" starts with one command. `notifications` works on the
outbox: list rows (dead letters with `--failed`; text, JSON, CSV, XLSX or HTML), make dead
rows pending again, and run a delivery pass outside `tick`/`worker`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from ..audit.outbox_list import outbox_grid, outbox_title
from ..plugins.manager import PluginDispatch
from ..store.base import OutboxRow
from . import cli
from .common import (
    INSTANT,
    EngineSpec,
    emit,
    engine_options,
    json_option,
    open_engine,
    reading_engine_options,
    resolve_plugin,
)
from .tables_out import chosen_format, table_format_options, write_tables

STATUSES = ("pending", "delivered", "dead")


@cli.command("plugins")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE:OBJECT",
              help="A plugin object to load as well, e.g. mypkg.notify:plugin (repeatable).")
@json_option
def plugins_cmd(plugins: tuple[str, ...], as_json: bool) -> None:
    """List the loaded plugins, where each comes from, its hooks and channels."""
    dispatch = PluginDispatch([resolve_plugin(ref) for ref in plugins])
    infos = dispatch.describe()
    defaults = dispatch.default_channels()
    errors = [str(e) for e in dispatch.errors]
    source = dispatch.settings.source
    doc = {"plugins": [i.as_dict() for i in infos], "default_channels": defaults,
           "settings": source, "errors": errors}
    lines = []
    for i in infos:
        chans = f" [channels: {', '.join(i.channels)}]" if i.channels else ""
        lines += [f"{i.name}{chans}", f"    from {i.source}",
                  f"    hooks: {', '.join(h.removeprefix('flowengine_') for h in i.hooks)}"]
    lines.append(f"default channels: {', '.join(defaults) or 'none'}"
                 f" (settings: {source or 'defaults'})")
    lines += [f"error: {e}" for e in errors]
    emit(as_json, doc, lines)


@cli.group("notifications")
def notifications() -> None:
    """The outbox: list, retry and deliver notifications."""


@notifications.command("list")
@click.option("--failed", is_flag=True, help="Only dead letters (delivery gave up).")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
@click.option("--case", "case_id", metavar="CASE", default=None, help="Only this case.")
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True,
              help="Headers and the message text of files (csv, xlsx, html) in this language.")
@table_format_options
@reading_engine_options
def list_cmd(failed: bool, status: str | None, case_id: str | None, lang: str,
             fmt: str | None, as_json: bool, output: str | None, spec: EngineSpec) -> None:
    """List outbox rows, oldest first (`--failed`: the dead-letter list)."""
    if failed and status not in (None, "dead"):
        raise click.UsageError("--failed means --status dead")
    fmt = chosen_format(fmt, as_json, output)
    engine = open_engine(spec, load_processes=False)
    rows = engine.store.outbox(status="dead" if failed else status, case_id=case_id)
    dead_only = failed or status == "dead"
    grids = [outbox_grid(rows, lang, dead_only)]

    def html() -> str:
        from ..audit.html.tables import tables_html

        return tables_html(outbox_title(lang, dead_only), grids, lang, kind="outbox",
                           landscape=True, drop_empty=True)

    write_tables(fmt, grids, output, doc=lambda: {"notifications": [row_doc(r) for r in rows]},
                 text=lambda: "".join(f"{line}\n" for line in [row_line(r) for r in rows]
                                      + [f"{len(rows)} notification(s)"]), html=html)


@notifications.command("retry")
@click.argument("row_id", metavar="ID", required=False)
@click.option("--all", "retry_all", is_flag=True, help="Every dead letter.")
@engine_options
@json_option
def retry_cmd(row_id: str | None, retry_all: bool, spec: EngineSpec, as_json: bool) -> None:
    """Make a dead letter (or all of them) pending again, due now, with fresh attempts."""
    if bool(row_id) == retry_all:
        raise click.UsageError("give one notification ID or --all")
    engine = open_engine(spec, load_processes=False)
    count = engine.store.retry_outbox(None if retry_all else row_id, engine.clock.now())
    if row_id and count == 0:
        raise click.BadParameter(f"no dead notification '{row_id}'; see `flowengine "
                                 "notifications list --failed`", param_hint="ID")
    emit(as_json, {"retried": count}, [f"{count} notification(s) pending again"])


@notifications.command("deliver")
@click.option("--now", "now", type=INSTANT, default=None,
              help="Deliver what is due at this time (default: now).")
@engine_options
@json_option
def deliver_cmd(now: datetime | None, spec: EngineSpec, as_json: bool) -> None:
    """Attempt every notification that is due, once (what tick/worker do after timers)."""
    engine = open_engine(spec, load_processes=False)
    report = engine.plugins.deliver_due(now)
    doc = report.as_dict()
    lines = [f"{k}: {i}" for k, ids in doc.items() for i in ids]
    lines.append(", ".join(f"{len(ids)} {k}" for k, ids in doc.items()))
    emit(as_json, doc, lines)


def row_doc(r: OutboxRow) -> dict[str, Any]:
    """The JSON form of an outbox row in `notifications list --json`."""
    p = r.payload
    return {"id": r.id, "case": r.case_id, "seq": r.seq, "channel": r.channel,
            "kind": p.get("kind"), "name": p.get("name"), "to": p.get("to", []),
            "status": r.status, "attempts": r.attempts, "created_at": _iso(r.created_at),
            "next_attempt_at": _iso(r.next_attempt_at), "delivered_at": _iso(r.delivered_at),
            "last_error": r.last_error, "messages": p.get("messages", {})}


def row_line(r: OutboxRow) -> str:
    tail = f"  ({r.last_error})" if r.last_error and r.status != "delivered" else ""
    kind = r.payload.get("kind", "")
    return f"{r.id}  {r.status:<9} {kind:<18} attempts={r.attempts}{tail}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
