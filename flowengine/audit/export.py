"""A case's history as JSON, CSV or XLSX, for auditors and for the registry office's
archive.

JSON keeps every event whole (body, `prev_hash`, `hash`), so an auditor can re-check the
chain outside flowengine: SHA-256 over the canonical body (keys sorted, no spaces, UTF-8)
of each event equals its `hash` (docs/audit.md). CSV and XLSX are one row per event for a
spreadsheet: the data an event set as canonical JSON, its deadline changes in words; CSV
starts with a byte-order mark and no cell can run as a formula (sheets.py).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ..engine.events import Event, canonical
from .sheets import Grid, csv_text, write_xlsx
from .timeline import describe_effect

CSV_COLUMNS = ("case", "seq", "at", "type", "actor", "role", "trigger", "source", "dest",
               "data", "deadlines", "notifications", "digest", "prev_hash", "hash")


def history_document(case_id: str, events: Iterable[Event]) -> dict[str, Any]:
    """The JSON document of a case's history."""
    return {"case": case_id, "events": [e.as_dict() for e in events]}


def write_json(case_id: str, events: Iterable[Event], out: TextIO) -> None:
    json.dump(history_document(case_id, events), out, ensure_ascii=False, indent=2)
    out.write("\n")


def csv_row(event: Event) -> dict[str, Any]:
    return {
        "case": event.case_id, "seq": event.seq, "at": event.at.isoformat(),
        "type": event.type, "actor": event.actor.name, "role": event.actor.role or "",
        "trigger": event.trigger or "", "source": event.source or "", "dest": event.dest or "",
        "data": canonical(dict(event.data)) if event.data else "",
        "deadlines": "; ".join(describe_effect(e) for e in event.effects),
        "notifications": "; ".join(str(n.get("kind")) for n in event.notifications),
        "digest": event.digest, "prev_hash": event.prev_hash, "hash": event.hash,
    }


def history_grid(case_id: str, events: Iterable[Event]) -> Grid:
    """The history as one table (a row per event), for CSV and XLSX."""
    return Grid(f"case {case_id}", list(CSV_COLUMNS),
                [[csv_row(e)[c] for c in CSV_COLUMNS] for e in events])


def write_csv(events: Iterable[Event], out: TextIO) -> None:
    """UTF-8 with a BOM; a cell that could run as a formula gets a leading apostrophe."""
    out.write(csv_text([history_grid("", events)], titles=False))


def write_history_xlsx(case_id: str, events: Iterable[Event], path: str | Path) -> None:
    write_xlsx([history_grid(case_id, events)], path)


def export_text(case_id: str, events: Iterable[Event], fmt: str) -> str:
    """The history of `case_id` as `json` or `csv` text."""
    buf = io.StringIO()
    if fmt == "json":
        write_json(case_id, events, buf)
    elif fmt == "csv":
        write_csv(events, buf)
    else:
        raise ValueError(f"unknown export format {fmt!r}; use json or csv")
    return buf.getvalue()


__all__ = ["CSV_COLUMNS", "csv_row", "export_text", "history_document", "history_grid",
           "write_csv", "write_history_xlsx", "write_json"]
