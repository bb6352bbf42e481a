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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from ..records.events import Event, canonical
from .recorded import DEFAULT_TOLERANCE, is_backdated
from .sheets import Grid, csv_text, write_xlsx
from .timeline import describe_effect

CSV_COLUMNS = ("case", "seq", "at", "type", "actor", "role", "trigger", "source", "dest",
               "data", "deadlines", "notifications", "digest", "prev_hash", "hash",
               "recorded_at", "backdated")


@dataclass(frozen=True)
class Recorded:
    """The recorded times of a case's events (recorded.py) and the backdating tolerance."""

    times: Mapping[int, datetime | None] = field(default_factory=dict)
    tolerance: timedelta = DEFAULT_TOLERANCE

    def of(self, event: Event) -> dict[str, Any]:
        at = self.times.get(event.seq)
        return {"seq": event.seq, "recorded_at": at.isoformat() if at else None,
                "backdated": is_backdated(event.type, event.at, at, self.tolerance)}


NONE = Recorded()


def history_document(case_id: str, events: Iterable[Event],
                     recorded: Recorded = NONE) -> dict[str, Any]:
    """The JSON document of a case's history. The recorded times are beside the events,
    not in them: each event stays exactly its hashed body plus `hash`."""
    listed = list(events)
    return {"case": case_id, "events": [e.as_dict() for e in listed],
            "recorded": [recorded.of(e) for e in listed]}


def write_json(case_id: str, events: Iterable[Event], out: TextIO,
               recorded: Recorded = NONE) -> None:
    json.dump(history_document(case_id, events, recorded), out, ensure_ascii=False, indent=2)
    out.write("\n")


def csv_row(event: Event, recorded: Recorded = NONE) -> dict[str, Any]:
    mark = recorded.of(event)
    return {
        "case": event.case_id, "seq": event.seq, "at": event.at.isoformat(),
        "type": event.type, "actor": event.actor.name, "role": event.actor.role or "",
        "trigger": event.trigger or "", "source": event.source or "", "dest": event.dest or "",
        "data": canonical(dict(event.recorded_data)) if event.recorded_data else "",
        "deadlines": "; ".join(describe_effect(e) for e in event.effects),
        "notifications": "; ".join(str(n.get("kind")) for n in event.notifications),
        "digest": event.digest, "prev_hash": event.prev_hash, "hash": event.hash,
        "recorded_at": mark["recorded_at"] or "",
        "backdated": "BACKDATED" if mark["backdated"] else "",
    }


def history_grid(case_id: str, events: Iterable[Event], recorded: Recorded = NONE) -> Grid:
    """The history as one table (a row per event), for CSV and XLSX."""
    return Grid(f"case {case_id}", list(CSV_COLUMNS),
                [[csv_row(e, recorded)[c] for c in CSV_COLUMNS] for e in events])


def write_csv(events: Iterable[Event], out: TextIO, recorded: Recorded = NONE) -> None:
    """UTF-8 with a BOM; a cell that could run as a formula gets a leading apostrophe."""
    out.write(csv_text([history_grid("", events, recorded)], titles=False))


def write_history_xlsx(case_id: str, events: Iterable[Event], path: str | Path,
                       recorded: Recorded = NONE) -> None:
    write_xlsx([history_grid(case_id, events, recorded)], path)


def export_text(case_id: str, events: Iterable[Event], fmt: str,
                recorded: Recorded = NONE) -> str:
    """The history of `case_id` as `json` or `csv` text."""
    buf = io.StringIO()
    if fmt == "json":
        write_json(case_id, events, buf, recorded)
    elif fmt == "csv":
        write_csv(events, buf, recorded)
    else:
        raise ValueError(f"unknown export format {fmt!r}; use json or csv")
    return buf.getvalue()


__all__ = ["CSV_COLUMNS", "Recorded", "csv_row", "export_text", "history_document", "history_grid",
           "write_csv", "write_history_xlsx", "write_json"]
