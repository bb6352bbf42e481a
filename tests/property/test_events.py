"""The event's canonical form and the engine's fast event constructor.

- `canonical_bytes` (orjson) gives exactly the bytes of
  `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` with decimals and
  dates as strings: the hash chain of a stored history must not depend on which encoder
  wrote it.
- `Draft.seal` (the hot path, built once without the dataclass `__init__`) gives an event
  equal to `seal(Event(...))`: same body, same hash, and the canonical text it keeps for
  the store is the body's canonical text; an event read back from that text equals it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from flowengine.records.case import Actor, Case
from flowengine.records.events import (
    GENESIS,
    Draft,
    Event,
    canonical,
    canonical_bytes,
    chain_hash,
    event_from_dict,
    event_from_json,
    seal,
)
from tests.support.engine import DraftContext


def _reference(value: Any) -> bytes:
    def default(v: Any) -> Any:
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        raise TypeError(type(v).__name__)

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=default).encode("utf-8")


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)),  # type: ignore[arg-type]
               max_size=12)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), TEXT,
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.dates(), st.datetimes(timezones=st.just(UTC)))
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=20)


@given(JSONISH)
def test_canonical_bytes_equal_the_standard_library_encoding(value: Any) -> None:
    assert canonical_bytes(value) == _reference(value)


FIELD = st.one_of(st.none(), TEXT)
INTS = st.integers(-(2**63), 2**63 - 1)  # what an integer field holds (engine/data.py)
DATA = st.dictionaries(TEXT, st.one_of(st.none(), st.booleans(), INTS, TEXT), max_size=4)
EFFECTS = st.lists(st.dictionaries(TEXT, st.one_of(INTS, TEXT), max_size=3), max_size=2)
INSTANT = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1),
                       timezones=st.sampled_from([
                           UTC, timezone(timedelta(hours=8)), ZoneInfo("Asia/Shanghai"),
                           ZoneInfo("America/St_Johns"),  # -03:30 / -02:30
                           timezone(timedelta(hours=8, minutes=5, seconds=43)),  # seconds
                           timezone(timedelta(hours=-5, seconds=-30))]))


@dataclass(frozen=True)
class _Clerk(Actor):
    """A host's own actor type with a field of its own, which the event body leaves out."""

    department: str = ""


NOTES = st.lists(st.dictionaries(TEXT, st.one_of(INTS, TEXT), max_size=3), max_size=2)


@given(st.text(min_size=1, max_size=8), st.integers(1, 10**6), INSTANT,
       st.sampled_from(["started", "fired", "timer", "calendar"]), TEXT, FIELD, FIELD, FIELD,
       FIELD, DATA, EFFECTS, NOTES, st.sampled_from([GENESIS, "ab" * 32]), FIELD)
def test_a_sealed_draft_equals_the_sealed_dataclass_event(
        case_id: str, seq: int, at: datetime, kind: Any, actor: str, role: str | None,
        trigger: str | None, source: str | None, dest: str | None, data: dict[str, Any],
        effects: list[dict[str, Any]], notes: list[dict[str, Any]], prev: str,
        duplicate_of: str | None) -> None:
    data = {k: v for k, v in data.items() if k != "duplicate_of"}  # a reserved name
    duplicate_of = duplicate_of if kind == "started" else None
    before = Case(id=case_id, process_id="p", digest="d" * 64, state="s", data={},
                  seq=seq - 1, last_hash="" if prev == GENESIS else prev)
    context = DraftContext(before, "p", "d" * 64, at, Actor(actor, role))
    draft = Draft(context, kind, trigger=trigger, source=source, dest=dest, data=data,
                  effects=tuple(effects), duplicate_of=duplicate_of)
    fast = draft.seal(tuple(notes))
    usual = seal(Event(case_id=case_id, seq=seq, at=at, type=kind, actor=Actor(actor, role),
                       process_id="p", digest="d" * 64, trigger=trigger, source=source,
                       dest=dest, data=data, effects=tuple(effects),
                       notifications=tuple(notes), prev_hash=prev, duplicate_of=duplicate_of))
    assert fast == usual
    wider = DraftContext(before, "p", "d" * 64, at, _Clerk(actor, role, "信访科"))
    assert Draft(wider, kind, trigger=trigger, source=source, dest=dest, data=data,
                 effects=tuple(effects), duplicate_of=duplicate_of).seal(
        tuple(notes)).sealed_body == fast.sealed_body  # its extra field is not hashed
    assert fast.body() == usual.body()
    assert fast.hash == usual.hash == chain_hash(usual.body())
    assert fast.sealed_body == canonical_bytes(usual.body())
    assert fast.canonical_body() == usual.canonical_body() == canonical(usual.body())
    if duplicate_of is not None:
        assert fast.body()["data"]["duplicate_of"] == duplicate_of  # hashed inside `data`
    changed = replace(fast, data={**data, "x": 1})  # a changed copy never keeps the old text
    assert changed.sealed_body is None and json.loads(changed.canonical_body())["data"]["x"] == 1
    stored = json.loads(fast.canonical_body())
    assert event_from_dict({**stored, "hash": fast.hash}) == fast
    assert event_from_json(stored, fast.hash) == fast
