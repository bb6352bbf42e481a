"""Whole-store views for an auditor: every case as it stood at an instant (`replay --all`),
every history as JSON lines (`export --all`), every case's last event (`audit heads`).

Why streaming, one case at a time: a registry office's store holds millions of events, so
each view reads the events in (case, seq) order with one cursor and keeps only the case
being read (its folded state, or its events until its line is written). All of them only
read: the log is not sequenced, nothing is written (docs/audit.md).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..engine.registry import Registry
from ..records.events import Event
from ..store.base import AuditReads, EventHeadRow, Store
from ..store.codec import instant_from_db
from .chain import ChainFault
from .checkpoint import Checkpoint, check
from .checkpoint_format import LogDiverged
from .export import Recorded
from .replay import CaseFolder, PinnedDefinitions
from .rows import Unreadable, decode, stored_events

EXPORT_FORMAT = "flowengine-export-all/1"


class Writer(Protocol):
    def write(self, text: str, /) -> int: ...


# ------------------------------------------------------------------ replay --all
@dataclass
class StoreAsOf:
    """The store rebuilt from its events as of `until` (every event when None)."""

    until: datetime | None
    cases: int = 0  # verified cases started at or before `until` (broken ones apart)
    later: int = 0  # cases started after it
    events: int = 0  # every stored event (all are chain-checked)
    folded: int = 0  # those at or before `until`
    states: dict[str, Counter[str]] = field(default_factory=dict)  # process -> state -> n
    broken: list[ChainFault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "until": self.until.isoformat() if self.until else None,
                "cases": self.cases, "not_yet_started": self.later, "events": self.events,
                "folded": self.folded,
                "by_process": {p: {"cases": sum(s.values()), "states": dict(sorted(s.items()))}
                               for p, s in sorted(self.states.items())},
                "broken": [b.as_dict() for b in self.broken]}

    def lines(self) -> list[str]:
        when = f"as it stood at {self.until.isoformat()}" if self.until else "now"
        out = [f"store {when}: {self.cases} case(s)"
               + (f" ({self.later} started later)" if self.later else "")
               + f", {self.folded} of {self.events} event(s) folded"
               + (f"; {len(self.broken)} broken case(s) not counted" if self.broken else "")]
        for process, states in sorted(self.states.items()):
            out.append(f"{process}: {sum(states.values())} case(s)")
            width = max(len(s) for s in states)
            out += [f"  {s:{width}}  {n}" for s, n in sorted(states.items())]
        if self.ok:
            out.append("ok: every case's chain verified and its events replayed")
        return out


def replay_store(store: Store, registry: Registry | None = None,
                 until: datetime | None = None) -> StoreAsOf:
    """Every case folded from its events up to `until`, its whole chain checked (and each
    event re-decided, as `replay` does); a broken case is listed, never raised."""
    result = StoreAsOf(until)
    definitions = PinnedDefinitions(store, registry)
    folder: CaseFolder | None = None
    for row in stored_events(store):
        case_id = row.case_id if isinstance(row, Unreadable) else row[0].case_id
        if folder is None or folder.case_id != case_id:
            if folder is not None:
                _count(result, folder)
            folder = CaseFolder(case_id, definitions, until)
        folder.feed_row(row)
        result.events += 1
    if folder is not None:
        _count(result, folder)
    return result


def _count(result: StoreAsOf, folder: CaseFolder) -> None:
    result.folded += folder.folded
    fault = folder.fault()
    if fault is not None:  # its state cannot be trusted: listed apart, not counted
        result.broken.append(fault)
        return
    case = folder.case
    if case is None:
        result.later += 1
        return
    result.cases += 1
    result.states.setdefault(case.process_id, Counter())[case.state] += 1


# ------------------------------------------------------------------ audit heads
@dataclass(frozen=True)
class CaseHead:
    """A case's last stored event: the line an auditor files beside a checkpoint."""

    case_id: str
    seq: int
    log_index: int | None  # None: not sequenced yet (no checkpoint covers it)
    hash: str

    def line(self) -> str:
        index = "-" if self.log_index is None else str(self.log_index)
        return f"{self.case_id} {self.seq} {index} {self.hash}"

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "log_index": self.log_index,
                "hash": self.hash}


def _rows(store: Store, with_body: bool = False) -> Iterator[EventHeadRow]:
    """Every event's place as stored (no conversion that could fail; with its body and
    recorded time when `with_body`), in (case, seq) order, streamed."""
    if not isinstance(store, AuditReads):
        raise ValueError("the whole-store views need the SQL store (a database URL)")
    return store.event_heads(with_body)


def _readable(case_id: Any, seq: Any, hash_: Any, index: Any) -> str | None:
    if type(case_id) is not str or type(seq) is not int or type(hash_) is not str or (
            index is not None and type(index) is not int):
        return (f"the stored event (case {case_id!r}, seq {seq!r}) has a case id, sequence "
                "number, hash or log index that is not one")
    return None


def case_heads(store: Store) -> Iterator[CaseHead | str]:
    """Each case's last event, in case order; a row that cannot be read comes as a string
    saying why (its case's head is then the last readable event before it)."""
    last: CaseHead | None = None
    for case_id, seq, hash_, index, _, _ in _rows(store):
        why = _readable(case_id, seq, hash_, index)
        if why is not None:
            yield why
            continue
        if last is not None and last.case_id != case_id:
            yield last
        last = CaseHead(case_id, seq, index, hash_)
    if last is not None:
        yield last


# ------------------------------------------------------------------ export --all
@dataclass
class ExportSummary:
    cases: int = 0
    events: int = 0
    unreadable: list[Unreadable] = field(default_factory=list)


def checkpoint_header(cp: Checkpoint | None) -> dict[str, Any]:
    """The first line of `export --all`: the format, and the checkpoint's signed lines."""
    if cp is None:
        return {"format": EXPORT_FORMAT, "checkpoint": None}
    signed = cp.signed_text().splitlines()
    return {"format": EXPORT_FORMAT, "checkpoint": {
        "size": cp.size, "root": cp.root, "time": cp.time,
        "heads": signed[4].split(" ", 1)[1],
        "leaves": signed[5].split(" ", 1)[1] if cp.fingerprints is not None else None,
        "outbox": signed[6].split(" ", 1)[1] if cp.outbox is not None else None,
        "key": cp.key, "sig": cp.signature,
        "signed_text": cp.signed_text()}}


def export_all(store: Store, out: Writer, tolerance: timedelta,
               cp: Checkpoint | None = None) -> ExportSummary:
    """Every case's history as JSON lines (docs/audit.md): a header, one line per case, an
    end line. Under a checkpoint the log must extend it (`LogDiverged` otherwise,
    before anything is written), and each case line carries the head it checkpointed."""
    if cp is not None:
        findings = check(store, cp)
        if findings:
            raise LogDiverged(f"the log is not an extension of the checkpoint ({findings[0]})")
    checkpointed = {c: (s, i, h) for c, s, i, h in cp.heads} if cp is not None else {}
    summary = ExportSummary()
    _line(out, checkpoint_header(cp))
    case_id: str | None = None
    events: list[Event] = []
    times: dict[int, datetime | None] = {}
    head: CaseHead | None = None
    for case, seq, hash_, index, body, recorded in _rows(store, with_body=True):
        why = _readable(case, seq, hash_, index)
        if case != case_id:
            if case_id is not None:
                _case_line(out, case_id, events, Recorded(times, tolerance), head,
                           checkpointed.get(case_id))
            case_id, events, times, head = case, [], {}, None
            summary.cases += 1
        summary.events += 1
        row = decode(case, seq, body, hash_) if why is None else Unreadable(
            str(case), seq if type(seq) is int else 0, why)
        if isinstance(row, Unreadable):
            summary.unreadable.append(row)
            continue
        events.append(row[0])
        times[row[0].seq] = _instant(recorded)
        head = CaseHead(case, seq, index, hash_)
    if case_id is not None:
        _case_line(out, case_id, events, Recorded(times, tolerance), head,
                   checkpointed.get(case_id))
    _line(out, {"end": True, "cases": summary.cases, "events": summary.events,
                "unreadable": [{"case": u.case_id, "seq": u.seq, "why": u.why}
                               for u in summary.unreadable]})
    return summary


def _instant(value: Any) -> datetime | None:
    try:
        return instant_from_db(value)
    except (TypeError, ValueError, AttributeError):
        return None  # a garbage recorded time is `audit verify --checkpoint`'s business


def _case_line(out: Writer, case_id: str, events: list[Event], recorded: Recorded,
               head: CaseHead | None, checkpointed: tuple[int, int, str] | None) -> None:
    _line(out, {
        "case": case_id,
        "head": head.as_dict() if head is not None else None,
        "checkpointed": None if checkpointed is None else {
            "seq": checkpointed[0], "log_index": checkpointed[1], "hash": checkpointed[2]},
        "events": [e.as_dict() for e in events],
        "recorded": [recorded.of(e) for e in events]})


def _line(out: Writer, doc: dict[str, Any]) -> None:
    out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str))
    out.write("\n")


__all__ = ["EXPORT_FORMAT", "CaseHead", "ExportSummary", "StoreAsOf", "case_heads",
           "checkpoint_header", "export_all", "replay_store"]
