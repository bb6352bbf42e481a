"""Events: the append-only history of a case, and their canonical form for the hash chain.

Every start, fire and timer firing is one `Event`. Its `data` holds the values it set
(None = cleared), `effects` the deadline changes it made (each a small dict with an `op`),
and `notifications` the notices it asked for. The canonical serialisation (sorted keys,
no spaces, UTF-8, decimals and dates as strings) is what the SHA-256 chain covers, so the
same event always hashes the same on SQLite, PostgreSQL or in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from .case import Actor

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    case_id: str
    seq: int  # 1, 2, 3 … per case, no gaps
    at: datetime
    type: str  # started | fired | timer | calendar (deadlines recounted with official data)
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

    def body(self) -> dict[str, Any]:
        """Everything the hash covers (all but `hash` itself); read-only (it shares `data`)."""
        return {
            "case_id": self.case_id, "seq": self.seq, "at": self.at.isoformat(),
            "type": self.type, "actor": {"name": self.actor.name, "role": self.actor.role},
            "process_id": self.process_id, "digest": self.digest, "trigger": self.trigger,
            "source": self.source, "dest": self.dest,
            "data": self.data if type(self.data) is dict else dict(self.data),
            "effects": list(self.effects), "notifications": list(self.notifications),
            "prev_hash": self.prev_hash,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    def canonical_body(self) -> str:
        """`canonical(self.body())`: the text the hash covers; handed over (once) from
        sealing when this event was sealed here, so a store writes the very text that was
        hashed without encoding it again; see `drop_sealed_body`."""
        kept: tuple[str, bytes] | None = self.__dict__.pop("_sealed_body", None)
        if kept is not None and kept[0] == self.hash:
            return kept[1].decode("utf-8")
        return canonical(self.body())


def new_event(case_id: str, seq: int, at: datetime, type: str, actor: Actor, process_id: str,
              digest: str, trigger: str | None, source: str | None, dest: str | None,
              data: dict[str, Any], effects: tuple[Mapping[str, Any], ...],
              prev_hash: str) -> Event:
    """`Event(...)` for the engine's hot path, without the frozen dataclass's `__init__`
    (one `object.__setattr__` per field: ~3.5 µs of a ~25 µs fire). Equal to the `Event`
    built the usual way (a property test pins it); not yet sealed, no notifications."""
    event = object.__new__(Event)
    event.__dict__.update(
        case_id=case_id, seq=seq, at=at, type=type, actor=actor, process_id=process_id,
        digest=digest, trigger=trigger, source=source, dest=dest, data=data, effects=effects,
        notifications=(), prev_hash=prev_hash, hash="")
    return event


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


def seal_new(event: Event) -> Event:
    """Fill in the hash of an event just built and not yet shared (no copy on the hot path)."""
    body = canonical_bytes(event.body())
    digest = hashlib.sha256(body).hexdigest()
    event.__dict__["hash"] = digest  # not yet shared: no frozen-dataclass detour
    event.__dict__["_sealed_body"] = (digest, body)
    return event


def drop_sealed_body(event: Event) -> None:
    """Forget the text kept from sealing (a store that keeps events in memory)."""
    event.__dict__.pop("_sealed_body", None)


def event_from_dict(d: Mapping[str, Any]) -> Event:
    """Rebuild an event from its stored JSON form (values stay in JSON form)."""
    actor = d.get("actor") or {}
    return Event(
        case_id=d["case_id"], seq=int(d["seq"]), at=datetime.fromisoformat(d["at"]),
        type=d["type"], actor=Actor(actor.get("name", ""), actor.get("role")),
        process_id=d["process_id"], digest=d["digest"], trigger=d.get("trigger"),
        source=d.get("source"), dest=d.get("dest"), data=dict(d.get("data") or {}),
        effects=tuple(d.get("effects") or ()), notifications=tuple(d.get("notifications") or ()),
        prev_hash=d.get("prev_hash", GENESIS), hash=d.get("hash", ""),
    )
