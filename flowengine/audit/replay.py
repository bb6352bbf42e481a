"""Rebuild a case from its events alone, on the definition version it is pinned to, and
compare the result with the stored projection.

Why this can be trusted: the engine changes a case only through `engine.fold.apply`, and
replay folds the stored events with that same function, on the definition loaded by the
digest each case started with (never the newest YAML on disk). So a replayed case differs
from the stored one only if the events, the projection or the definition text were changed
behind the engine's back; the hash chain (chain.py) says which event, the comparison says
which field.

`until` rebuilds the case as it stood at that instant (every event at or before it); the
whole chain is still checked, but the projection is compared only when nothing was left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol

from ..definition.model import ProcessDef
from ..engine.compiler import CompiledProcess
from ..engine.data import to_json
from ..engine.fold import apply, new_case
from ..engine.registry import Registry, compiled
from ..errors import CaseNotFound, FlowengineError, ReplayMismatch
from ..records.case import Case, Deadline
from ..records.events import Event
from ..store.base import AuditReads, Store
from .chain import ChainCursor, ChainFault
from .definitions import PinnedDefinitionBroken, check_definition
from .records import BadRecord
from .redecide import redecide
from .rows import Row, Unreadable, load_record, stored_events
from .timeline import TimelineEntry, deadlines_summary, entry

CASE_FIELDS = ("process_id", "digest", "state", "seq", "last_hash", "duplicate_of",
               "created_at", "updated_at")
DEADLINE_FIELDS = tuple(f.name for f in fields(Deadline))


class PinnedDefinitionMissing(PinnedDefinitionBroken):
    """The events name a definition version the store does not hold (exit 1)."""

    def __init__(self, case_id: str, digest: str):
        why = "is not stored, so the case cannot be replayed"
        super().__init__(case_id, digest, why)
        self.args = (f"case {case_id}: its definition version {digest[:12]}… {why}",)

    def __str__(self) -> str:
        return str(self.args[0])


class HasStore(Protocol):
    store: Store
    registry: Registry


class PinnedDefinitions:
    """Definition versions by digest: compiled ones from the registry, others from the text
    the store kept when the version was first used (as `Engine.compiled` does)."""

    def __init__(self, store: Store, registry: Registry | None = None) -> None:
        self.store = store
        self.registry = registry if registry is not None else Registry()
        self._cache: dict[str, ProcessDef] = {}
        self._variants: dict[str, list[CompiledProcess]] = {}

    def get(self, digest: str, case_id: str) -> ProcessDef:
        found = self._cache.get(digest)
        if found is None:
            found = self._cache[digest] = self._load(digest, case_id)
        return found

    def _load(self, digest: str, case_id: str) -> ProcessDef:
        compiled = self.registry.pinned(digest)
        if compiled is not None:
            return compiled.process
        text = self.store.definition_text(digest)
        if text is None:
            raise PinnedDefinitionMissing(case_id, digest)
        why = check_definition(digest, text)
        if why is not None:
            raise PinnedDefinitionBroken(case_id, digest, why)
        return self.registry.add_text(text, f"<pinned {digest[:12]}>")

    def compiled(self, digest: str, case_id: str) -> CompiledProcess:
        """The compiled version (what the planner decides with), loaded as `get` does."""
        process = self.get(digest, case_id)
        cp = self.registry.pinned(digest)
        return cp if cp is not None else compiled(process)

    def official_variants(self, cp: CompiledProcess, case_id: str) -> list[CompiledProcess]:
        """`cp` as a fire may have counted with it: with the official years of another
        version of its process laid over the years `cp`'s calendar has only provisionally
        (`Registry.effective`, with that version as the newest loaded, which the store does
        not record). The versions: every one the store keeps (the engine stores each it
        loads) and the registry's newest. Empty when `cp` has no provisional year."""
        found = self._variants.get(cp.process.digest)
        if found is None:
            found = self._variants[cp.process.digest] = self._official(cp, case_id)
        return found

    def _official(self, cp: CompiledProcess, case_id: str) -> list[CompiledProcess]:
        if not getattr(cp.calendar, "provisional_years", ()):
            return []
        out = [] if self.registry.effective(cp) is cp else [self.registry.effective(cp)]
        digests = (self.store.definition_digests(cp.process.id)
                   if isinstance(self.store, AuditReads) else [])
        for digest in digests:
            if digest == cp.process.digest:
                continue
            try:
                newer = self.get(digest, case_id)
            except FlowengineError:
                continue  # a missing or changed text: verify reports it as such
            laid = Registry()
            laid.add(cp.process)
            laid.add(newer)
            base = laid.pinned(cp.process.digest)
            assert base is not None
            variant = laid.effective(base)
            if variant is not base:
                out.append(variant)
        return out


@dataclass(frozen=True)
class Mismatch:
    """One field where the stored projection and the replay disagree."""

    field: str  # "state", "data.result", "deadlines.handling.due"
    stored: Any
    replayed: Any

    def error(self, case_id: str) -> ReplayMismatch:
        return ReplayMismatch(case_id, self.field, jsonable(self.stored), jsonable(self.replayed))

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "stored": jsonable(self.stored),
                "replayed": jsonable(self.replayed)}


def jsonable(value: Any) -> Any:
    """A value as JSON shows it (dates and decimals as text), for messages and --json."""
    if isinstance(value, Deadline):
        return value.as_dict()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return to_json(value)


class CaseFolder:
    """Chain check plus fold for one case, fed one event at a time (bounded memory)."""

    def __init__(self, case_id: str, definitions: PinnedDefinitions,
                 until: datetime | None = None, timeline: bool = False, *,
                 redecide: bool = True) -> None:
        self.case_id = case_id
        self.redecide = redecide  # plan each event again (verify's check of forgeries)
        self.definitions = definitions
        self.until = until
        self.chain = ChainCursor(case_id)
        self.case: Case | None = None
        self.process: ProcessDef | None = None
        self.fold_fault: ChainFault | None = None
        self.folded = 0
        self.left_out = 0
        self.timeline: list[TimelineEntry] | None = [] if timeline else None
        self.missing: PinnedDefinitionBroken | None = None
        self.previous: Event | None = None  # the event folded last (for re-deciding)
        self.notified: list[Event] = []  # the events with notifications (outbox_check.py)

    def feed_row(self, row: Row) -> None:
        """A row from `rows.stored_events`: an event with its content hash, or unreadable."""
        if isinstance(row, Unreadable):
            self.chain.unreadable(row.seq, row.why)
            if self.fold_fault is None:
                self.fold_fault = self.chain.fault
            return
        event, content_hash = row
        self.chain.feed(event, content_hash)
        if self.until is None and self.timeline is None and self.fold_fault is None:
            self._fold(event)  # the common case of `audit verify`, without the checks below
            return
        self._after_chain(event)

    def feed(self, event: Event, content_hash: str | None = None) -> None:
        self.chain.feed(event, content_hash)
        self._after_chain(event)

    def _after_chain(self, event: Event) -> None:
        if self.until is not None and event.at > self.until:
            self.left_out += 1
            return
        if self.fold_fault is None:
            self._fold(event)
        if self.timeline is not None:
            self.timeline.append(entry(event))

    def _fold(self, event: Event) -> None:
        try:
            if self.case is None:
                if event.type != "started":
                    raise ValueError("the case's first stored event is not its start")
                self.process = self.definitions.get(event.digest, self.case_id)
                why = self._redecide(None, event)
                self.case = new_case(self.process, event)
            else:
                why = self._redecide(self.case, event)
            if why is not None:
                self.fold_fault = ChainFault(self.case_id, event.seq, why)
                return
            assert self.process is not None
            apply(self.process, self.case, event)
            self.previous = event
            if event.notifications:
                self.notified.append(event)
            self.folded += 1
        except PinnedDefinitionBroken as exc:  # verify names the case; replay raises it
            self.missing = exc
            self.fold_fault = ChainFault(self.case_id, event.seq,
                                         f"its definition version {exc.digest[:12]}… {exc.why}")
        except Exception as exc:  # noqa: BLE001 - a tampered event can break the fold in any way
            self.fold_fault = ChainFault(self.case_id, event.seq, f"cannot be folded: {exc}")

    def _redecide(self, before: Case | None, event: Event) -> str | None:
        """Why the engine would not have written `event` on `before` (redecide.py)."""
        if not self.redecide:
            return None
        cp = self.definitions.compiled(before.digest if before else event.digest, self.case_id)
        return redecide(cp, before, event, self.previous,
                        lambda: self.definitions.official_variants(cp, self.case_id))

    def fault(self, stored_seq: int | None = None) -> ChainFault | None:
        """The first fault by sequence number: a broken link or an event that does not fold."""
        found = [f for f in (self.chain.finish(stored_seq), self.fold_fault) if f is not None]
        return min(found, key=lambda f: f.seq) if found else None


def compare(stored: Case, replayed: Case) -> list[Mismatch]:
    """Every field where the stored projection differs from the replayed case."""
    out = [Mismatch(name, getattr(stored, name), getattr(replayed, name))
           for name in CASE_FIELDS if getattr(stored, name) != getattr(replayed, name)]
    if stored.owner != replayed.owner:
        out.append(Mismatch("owner", stored.owner, replayed.owner))
    out += _compare_maps("data", stored.data, replayed.data)
    for name in sorted(set(stored.deadlines) | set(replayed.deadlines)):
        out += _compare_deadline(name, stored.deadlines.get(name), replayed.deadlines.get(name))
    return out


def _same(a: Any, b: Any) -> bool:
    return bool(a == b) or to_json(a) == to_json(b)


def _compare_maps(prefix: str, stored: Mapping[str, Any],
                  replayed: Mapping[str, Any]) -> list[Mismatch]:
    return [Mismatch(f"{prefix}.{k}", stored.get(k), replayed.get(k))
            for k in sorted(set(stored) | set(replayed))
            if k not in stored or k not in replayed or not _same(stored[k], replayed[k])]


def _compare_deadline(name: str, stored: Deadline | None,
                      replayed: Deadline | None) -> list[Mismatch]:
    if stored is None or replayed is None:
        return [Mismatch(f"deadlines.{name}", stored, replayed)]
    return [Mismatch(f"deadlines.{name}.{attr}", getattr(stored, attr), getattr(replayed, attr))
            for attr in DEADLINE_FIELDS
            if not _same(getattr(stored, attr), getattr(replayed, attr))]


@dataclass
class ReplayResult:
    """A case rebuilt from its events: the case, its timeline, and what did not verify."""

    case_id: str
    case: Case | None  # the replayed case (as of `until`), None if not even the start folds
    stored: Case | None  # the stored projection
    timeline: list[TimelineEntry]
    until: datetime | None
    events: int  # every stored event of the case
    folded: int  # the events at or before `until` that were folded
    fault: ChainFault | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    compared: bool = False  # whether the projection was compared (not when `until` cut)

    @property
    def ok(self) -> bool:
        return self.fault is None and not self.mismatches

    def raise_for_problems(self) -> None:
        """`ChainBroken` or `ReplayMismatch` (both exit 1) for the first problem found."""
        if self.fault is not None:
            raise self.fault.error()
        if self.mismatches:
            raise self.mismatches[0].error(self.case_id)

    def problems(self) -> list[str]:
        out = [str(self.fault)] if self.fault is not None else []
        out += [str(m.error(self.case_id)) for m in self.mismatches]
        return out

    def as_dict(self) -> dict[str, Any]:
        case = self.case
        return {
            "case": self.case_id, "ok": self.ok,
            "until": self.until.isoformat() if self.until else None,
            "events": self.events, "folded": self.folded, "compared": self.compared,
            "state": case.state if case else None,
            "data": to_json(case.data) if case else None,
            "deadlines": [d.as_dict() for d in case.deadlines.values()] if case else [],
            "deadline_outcomes": deadlines_summary(case) if case else [],
            "timeline": [t.as_dict() for t in self.timeline],
            "fault": self.fault.as_dict() if self.fault else None,
            "mismatches": [m.as_dict() for m in self.mismatches],
        }


class Replayer:
    """Replays cases of one store; definitions are cached by digest across cases."""

    def __init__(self, store: Store, registry: Registry | None = None) -> None:
        self.store = store
        self.definitions = PinnedDefinitions(store, registry)

    def replay(self, case_id: str, until: datetime | None = None) -> ReplayResult:
        stored = load_record(self.store, case_id)
        return self.replay_events(case_id, stored_events(self.store, case_id), stored, until)

    def replay_events(self, case_id: str, rows: Iterable[Row | Event],
                      record: Case | BadRecord | None,
                      until: datetime | None = None) -> ReplayResult:
        """Replay from rows (`rows.stored_events`) or plain events; a stored record that
        cannot be read (`BadRecord`) is a fault at the case's last event."""
        stored = record if isinstance(record, Case) else None
        folder = CaseFolder(case_id, self.definitions, until, timeline=True)
        for row in rows:
            if isinstance(row, Event):
                folder.feed(row)
            else:
                folder.feed_row(row)
        if folder.chain.count == 0 and record is None:
            raise CaseNotFound(case_id)
        if folder.missing is not None:
            raise folder.missing
        result = ReplayResult(
            case_id=case_id, case=folder.case, stored=stored, timeline=folder.timeline or [],
            until=until, events=folder.chain.count, folded=folder.folded,
            fault=folder.fault(stored.seq if stored is not None else None))
        if stored is not None and folder.case is not None and folder.left_out == 0:
            result.compared = True
            result.mismatches = compare(stored, folder.case)
        elif isinstance(record, BadRecord):
            if result.fault is None:
                last = folder.case.seq if folder.case is not None else folder.chain.seq
                result.fault = ChainFault(case_id, last, record.why)
        elif stored is None:
            result.mismatches = [Mismatch("case", None, "a case with events but no record")]
        return result


def replay(source: HasStore, case_id: str, until: datetime | None = None, *,
           strict: bool = True) -> ReplayResult:
    """Rebuild `case_id` from its events on `source` (an `Engine`, or anything with a `store`
    and a `registry`). `strict`: raise `ChainBroken` / `ReplayMismatch` (exit 1) instead of
    returning a result with problems."""
    result = Replayer(source.store, source.registry).replay(case_id, until)
    if strict:
        result.raise_for_problems()
    return result


__all__ = ["CaseFolder", "Mismatch", "PinnedDefinitionMissing", "PinnedDefinitions",
           "ReplayResult", "Replayer", "compare", "jsonable", "replay"]
