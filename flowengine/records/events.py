"""Events: the append-only history of a case, and their canonical form for the hash chain.

Every start, fire and timer firing is one `Event`. Its `data` holds the values it set
(None = cleared), `effects` the deadline changes it made (typed in `lifecycle`), and
`notifications` the notices it asked for. The planner builds each event once, complete,
from a `Draft`. The canonical serialisation (sorted keys, no spaces, UTF-8, decimals and
dates as strings) is what the SHA-256 chain covers, so the same event always hashes the
same on SQLite, PostgreSQL or in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import orjson

from .built import built
from .case import Actor, Case
from .lifecycle import EventType

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    case_id: str
    seq: int  # 1, 2, 3 … per case, no gaps
    at: datetime
    type: EventType  # calendar: deadlines recounted with official data
    actor: Actor
    process_id: str
    digest: str  # the definition version the case is pinned to
    trigger: str | None = None
    source: str | None = None
    dest: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    effects: tuple[Mapping[str, Any], ...] = ()
    notifications: tuple[Mapping[str, Any], ...] = ()
    prev_hash: str = GENESIS
    hash: str = ""
    # The earlier case a `started` event's petition repeats. Hashed (and stored) inside
    # `data`, as it always was, so histories keep their hashes; the fold reads it here.
    duplicate_of: str | None = None
    # The canonical body this event was hashed from, when it was built here (`Draft.seal`):
    # a store writes that very text instead of encoding the body again. Not part of the
    # body, nor of equality, nor of `__init__`: an event read back, built by hand or
    # changed with `dataclasses.replace` has None, so it is never written with a stale text;
    # so has one a tick wrote and keeps to return (`drop_sealed_bodies`).
    sealed_body: bytes | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def recorded_data(self) -> Mapping[str, Any]:
        """`data` as the history records it (with `duplicate_of`)."""
        if self.duplicate_of is None:
            return self.data
        return {**self.data, "duplicate_of": self.duplicate_of}

    def body(self) -> dict[str, Any]:
        """Everything the hash covers (all but `hash` itself); read-only (it shares `data`)."""
        data = self.data if self.duplicate_of is None else self.recorded_data
        return {
            "case_id": self.case_id, "seq": self.seq, "at": self.at.isoformat(),
            "type": self.type, "actor": {"name": self.actor.name, "role": self.actor.role},
            "process_id": self.process_id, "digest": self.digest, "trigger": self.trigger,
            "source": self.source, "dest": self.dest,
            "data": data if type(data) is dict else dict(data),
            "effects": list(self.effects), "notifications": list(self.notifications),
            "prev_hash": self.prev_hash,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    def canonical_body(self) -> str:
        """`canonical(self.body())`: the text the hash covers (the text it was hashed from
        when this event was sealed here)."""
        if self.sealed_body is not None:
            return self.sealed_body.decode("utf-8")
        return canonical(self.body())


def drop_sealed_bodies(events: Iterable[Event]) -> None:
    """Let go of each event's sealed text (`sealed_body`) once a store has written it. Why:
    the text is then in the database, and a tick keeps every event it fires until it
    returns them, a KiB of text each that the process had to take fresh pages for
    (bench/RESULTS-store.md, tick, seventh sitting).
    Equality, the hash and `canonical_body()` stay as they were: the body is encoded
    again when asked for, to the same text."""
    for e in events:
        object.__setattr__(e, "sealed_body", None)  # the one field outside the record


class DraftContext(Protocol):
    """Where and when a planned event happens: the case before it (its id, sequence and
    last hash place the event in the chain), the definition version, the instant and
    the actor. The planner's per-step object is one; a test may pass any object with
    these attributes."""

    @property
    def case(self) -> Case: ...
    @property
    def process_id(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> Actor: ...


class Draft:
    """An event being planned: everything but its notifications and hash. The planner folds
    the draft into the case (`fold.apply` reads the same attributes as on an `Event`), asks
    which notifications the case after it needs, then `seal`s it: the `Event` is built once,
    complete, with its hash and the canonical text it was hashed from.

    Built from its context (`DraftContext`: the case before it, the version, the instant
    and the actor) and what this event itself records."""

    __slots__ = ("case_id", "seq", "at", "type", "actor", "process_id", "digest", "trigger",
                 "source", "dest", "data", "effects", "prev_hash", "duplicate_of")
    hash = ""  # a draft has none; the fold records it on the case, the planner then sets it

    def __init__(self, ctx: DraftContext, type: EventType, trigger: str | None = None,
                 source: str | None = None, dest: str | None = None,
                 data: dict[str, Any] | None = None, effects: tuple[Mapping[str, Any], ...] = (),
                 duplicate_of: str | None = None) -> None:
        before = ctx.case
        self.case_id, self.seq, self.prev_hash = before.id, before.seq + 1, before.last_hash or GENESIS
        self.at, self.actor, self.type = ctx.at, ctx.actor, type
        self.process_id, self.digest, self.trigger = ctx.process_id, ctx.digest, trigger
        self.source, self.dest, self.effects = source, dest, effects
        self.data = data if data is not None else {}
        self.duplicate_of = duplicate_of

    def seal(self, notifications: tuple[Mapping[str, Any], ...] = ()) -> Event:
        """The complete event: body encoded once, hashed, and kept for the store.

        The event's own fields are encoded as they are when they already give the body's
        text (the common case: orjson writes the instant and the `Actor` dataclass as the
        body does); only a `duplicate_of`, an instant `_instant` writes itself or an
        `Actor` subclass (whose extra fields the body leaves out) need a body of their own."""
        at, actor, data, effects = self.at, self.actor, self.data, self.effects
        values = {  # in the body's (sorted) key order
            "actor": actor, "at": at, "case_id": self.case_id, "data": data,
            "dest": self.dest, "digest": self.digest, "effects": effects,
            "notifications": notifications,  # tuples: JSON arrays
            "prev_hash": self.prev_hash, "process_id": self.process_id, "seq": self.seq,
            "source": self.source, "trigger": self.trigger, "type": self.type}
        when = at if at.tzinfo is UTC else _instant(at)
        if when is at and self.duplicate_of is None and type(actor) is Actor:
            # before the three keys the body has not; with no mapping inside but the
            # actor's (in field order, which is sorted), the keys are already in order
            body = (orjson.dumps(values, default=_default)
                    if not data and not effects and not notifications
                    else canonical_bytes(values))
        else:
            if self.duplicate_of is not None:
                data = {**data, "duplicate_of": self.duplicate_of}
            body = canonical_bytes({**values, "at": when, "data": data,
                                    "actor": {"name": actor.name, "role": actor.role}})
        values["hash"] = hashlib.sha256(body).hexdigest()
        values["duplicate_of"] = self.duplicate_of
        # kept as an exact-size copy: orjson leaves its output in a buffer of several KiB
        # whatever the text's length, and a tick keeps every event it fires until it
        # returns (fresh memory for each, page faults and all: bench/RESULTS-store.md)
        values["sealed_body"] = bytes(memoryview(body))
        return built(Event, values)


def _instant(at: datetime) -> datetime | str:
    """`at` for the canonical body: its ISO text, as `Event.body` writes it. Left to orjson
    (which writes the same text, without the cost of `isoformat`) when its offset is whole
    minutes in a time zone orjson knows; orjson would round an offset with seconds (local
    mean time before 1928 in Asia/Shanghai is +08:05:43), so those are written here.
    tests/property/test_events.py pins that both give the same bytes."""
    tz = at.tzinfo
    if tz is UTC:
        return at  # what the system clock gives: no offset to look at
    if type(tz) is timezone:  # a fixed offset, the same at every instant: looked at once
        whole = _WHOLE.get(tz)
        if whole is None:
            whole = _whole(tz.utcoffset(None))
            if len(_WHOLE) < 256:  # a few zones in a life; bounded all the same
                _WHOLE[tz] = whole
        return at if whole else at.isoformat()
    if type(tz) is ZoneInfo and _whole(at.utcoffset()):
        return at
    return at.isoformat()


# fixed-offset time zone -> whether its offset is whole minutes (timezones equal by offset)
_WHOLE: dict[timezone, bool] = {}


def _whole(offset: timedelta | None) -> bool:
    return offset is not None and not offset.seconds % 60 and not offset.microseconds


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical_bytes(obj: Any) -> bytes:
    """The one JSON encoding of `obj` that hashing and storage agree on: UTF-8, keys sorted,
    no insignificant whitespace, no ASCII escaping, decimals and dates as strings. (orjson:
    the same bytes as `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` at a tenth of the cost; a property test pins the equivalence.)"""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS, default=_default)


def canonical(obj: Any) -> str:
    """`canonical_bytes` as text."""
    return canonical_bytes(obj).decode("utf-8")


def chain_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical body (which includes the previous event's hash)."""
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def seal(event: Event) -> Event:
    """A copy of `event` with its `hash` filled in."""
    return replace(event, hash=chain_hash(event.body()))


def event_from_dict(d: Mapping[str, Any]) -> Event:
    """Rebuild an event from its stored JSON form (values stay in JSON form)."""
    actor = d.get("actor") or {}
    data = dict(d.get("data") or {})
    duplicate_of = data.pop("duplicate_of", None) if d.get("type") == "started" else None
    return Event(
        case_id=d["case_id"], seq=int(d["seq"]), at=datetime.fromisoformat(d["at"]),
        type=d["type"], actor=Actor(actor.get("name", ""), actor.get("role")),
        process_id=d["process_id"], digest=d["digest"], trigger=d.get("trigger"),
        source=d.get("source"), dest=d.get("dest"), data=data,
        effects=tuple(d.get("effects") or ()), notifications=tuple(d.get("notifications") or ()),
        prev_hash=d.get("prev_hash", GENESIS), hash=d.get("hash", ""), duplicate_of=duplicate_of,
    )


def event_from_json(d: dict[str, Any], stored_hash: str) -> Event:
    """`event_from_dict` for a body just decoded from storage (all keys present; `d` is
    owned by the caller and not copied): the fast path of reading histories back."""
    actor, data = d["actor"], d["data"]
    duplicate_of = data.pop("duplicate_of", None) if d["type"] == "started" else None
    return built(Event, {
        "case_id": d["case_id"], "seq": int(d["seq"]), "at": datetime.fromisoformat(d["at"]),
        "type": d["type"], "actor": Actor(actor["name"], actor["role"]),
        "process_id": d["process_id"], "digest": d["digest"], "trigger": d["trigger"],
        "source": d["source"], "dest": d["dest"], "data": data,
        "effects": tuple(d["effects"]), "notifications": tuple(d["notifications"]),
        "prev_hash": d["prev_hash"], "hash": stored_hash, "duplicate_of": duplicate_of,
        "sealed_body": None})
