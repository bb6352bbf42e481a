"""Case ↔ row encoding for the SQL store: typed values survive the round trip exactly.

The store does not know process definitions, so it cannot re-coerce `case.data` through the
declared field types on load. Instead the projection's JSON keeps a small type tag on the
values JSON has no type for:

    Decimal("30000.01")            -> {"$dec": "30000.01"}
    date(2026, 1, 1)               -> {"$date": "2026-01-01"}
    datetime(…, tzinfo=+08:00)     -> {"$dt": "2026-01-01T09:00:00+08:00"}
    a dict whose only key starts with "$" (user data that looks like a tag)
                                   -> {"$map": [[key, value]]}

so `load_case` hands back `Decimal`, `date` and `datetime` values (offset included), not their
JSON strings. Deadlines are encoded field by field (their types are fixed by `Deadline`).
Events are not encoded here: their stored body is `canonical(event.body())`, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson

from ..errors import RecordUnreadable
from ..records.built import built
from ..records.case import ACTIVE, Actor, Case, Deadline

K = TypeVar("K")
V = TypeVar("V")
_TAGS = ("$dec", "$date", "$dt", "$map")
# sorted keys (equal data, equal text); dates and datetimes go through `_tag`, not orjson's
# own string form, so they keep their type tag
_DATA = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _tag(value: Any) -> Any:
    """orjson's `default`: called only for values JSON has no type for."""
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot store a {type(value).__name__} in case data")


_PLAIN = (str, int, float, bool, type(None))  # no dict inside, nothing to escape


def _escape(value: Any) -> Any:
    """Wrap user dicts that would read back as a tag (walks only lists and dicts)."""
    if isinstance(value, dict):
        inner = {k: _escape(v) for k, v in value.items()}
        if len(inner) == 1 and next(iter(inner)).startswith("$"):
            return {"$map": [list(item) for item in inner.items()]}
        return inner
    if isinstance(value, (list, tuple)):
        if all(type(v) in _PLAIN for v in value):  # a list of names: the common case
            return value
        return [_escape(v) for v in value]
    return value


def _untag(value: Any) -> Any:
    """Turn tags back into typed values, depth first (only dicts and lists are walked; the
    value is orjson's, so exactly a dict, a list or a plain value)."""
    kind = type(value)
    if kind is list:
        for v in value:  # a loop: a generator would be a call of its own
            if type(v) not in _PLAIN:
                return [_untag(v) for v in value]
        return value  # no tag inside
    if kind is not dict:
        return value
    if len(value) == 1:
        key, inner = next(iter(value.items()))
        if key == "$dec":
            return Decimal(inner)
        if key == "$date":
            return date.fromisoformat(inner)
        if key == "$dt":
            return datetime.fromisoformat(inner)
        if key == "$map":
            return {k: _untag(v) for k, v in inner}
    return {k: _untag(v) for k, v in value.items()}


def dump_data(data: Mapping[str, Any]) -> str:
    """Case data as tagged JSON text (sorted keys, so equal data gives equal text)."""
    nested = [k for k, v in data.items() if isinstance(v, (dict, list, tuple))]
    if nested:
        data = dict(data)
        for k in nested:
            data[k] = _escape(data[k])
    return orjson.dumps(data, option=_DATA, default=_tag).decode("utf-8")


def load_data(text: str | bytes) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(text)
    for key, value in data.items():
        if type(value) in _NESTED:  # orjson's own types: no subclass to look for
            data[key] = _untag(value)
    return data


_NESTED = (dict, list)


# ---------------------------------------------------------------------------- deadlines
_OWN_INSTANTS = ("started_at", "stopped_at")  # the instants of the case's own events
_DAY_INSTANTS = ("due", "warn_at")  # mostly ends of days, shared by the cases due that day
_DATES = ("start_date", "due_date", "paused_on")


def dump_deadlines(deadlines: Mapping[str, Deadline]) -> str:
    """Every field of each deadline; instants and dates in ISO form (orjson writes them as
    `isoformat` does, offset included)."""
    if not deadlines:
        return "[]"
    return orjson.dumps(list(map(vars, deadlines.values()))).decode("utf-8")  # each __dict__


def _deadline(doc: dict[str, Any]) -> Deadline:
    for name in _OWN_INSTANTS:
        value = doc[name]
        if value is not None:
            doc[name] = datetime.fromisoformat(value)
    for name in _DAY_INSTANTS:
        value = doc[name]
        if value is not None:
            doc[name] = _instant_text(value)
    for name in _DATES:
        value = doc[name]
        if value is not None:
            doc[name] = _date_text(value)
    if doc["pauses"]:  # else the empty list orjson made stays
        doc["pauses"] = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in doc["pauses"]]
    if "provisional" in doc:  # absent in rows written before provisional calendars
        doc["provisional"] = tuple(doc["provisional"])
    if tuple(doc) == _DEADLINE_FIELDS:  # as `dump_deadlines` writes every field, in order
        return built(Deadline, doc)  # `Deadline(**doc)` without its keyword call
    return Deadline(**doc)  # an older row's defaults; an unknown field refused


_DEADLINE_FIELDS = tuple(f.name for f in fields(Deadline))


def load_deadlines(text: str | bytes) -> dict[str, Deadline]:
    if text == "[]":  # a case without deadlines (most fires of most processes)
        return {}
    out = {}
    for doc in orjson.loads(text):  # a loop: a comprehension is a call of its own
        d = _deadline(doc)
        out[d.name] = d
    return out


# ---------------------------------------------------------------------------- duplicates
def _normal(value: Any) -> Any:
    """Equal values (as `==` sees them) get equal text: 35000 = 35000.00, offsets folded."""
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def dup_key(process_id: str, fields: Sequence[str], data: Mapping[str, Any]) -> str | None:
    """The hash of the duplicate-key values, or None when one is missing (as the engine
    only looks for duplicates when every key field is given)."""
    if not fields:
        return None
    values = {name: data.get(name) for name in fields}
    if any(v is None or v == "" for v in values.values()):
        return None
    text = dump_data({"$p": process_id, **{k: _normal(v) for k, v in values.items()}})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- cases
def case_values(case: Case, final: bool, dup_fields: Sequence[str] = (),
                same_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `cases` row of a case; `dup_fields`: its definition's duplicate key.
    `same_data`: a stored row of the case whose data it still has (the events since then
    changed none: a tick's timer events), whose data text and duplicate key, which follow
    from the data alone, are taken instead of encoding the same data again."""
    owner = case.owner
    if case.deadlines:
        deadlines = dump_deadlines(case.deadlines)
        overdue, late, next_timer, first_year = _deadline_columns(case)
    else:
        deadlines, overdue, late, next_timer, first_year = "[]", False, False, None, None
    if same_data is not None:
        data, key = same_data["data"], same_data["dup_key"]
    else:
        data = dump_data(case.data)
        key = dup_key(case.process_id, dup_fields, case.data) if dup_fields else None
    return {
        "id": case.id, "process_id": case.process_id, "digest": case.digest,
        "state": case.state, "data": data, "deadlines": deadlines,
        "seq": case.seq, "last_hash": case.last_hash, "overdue": overdue, "late": late,
        "final": final, "duplicate_of": case.duplicate_of,
        "dup_key": key,
        "owner": owner.name if owner else None, "owner_role": owner.role if owner else None,
        "created_at": case.created_at, "updated_at": case.updated_at,
        "next_timer_at": next_timer, "claimed_until": None,
        "provisional_from": first_year,
    }


def _deadline_columns(case: Case) -> tuple[bool, bool, datetime | None, int | None]:
    """`case.overdue`, `case.late`, `case.next_timer()` and `provisional_from(case)` in one
    pass over the deadlines (every appended case's row has all four)."""
    overdue = late = False
    first: datetime | None = None
    years: int | None = None
    for d in case.deadlines.values():
        status = d.status
        if status == "overdue":
            late = True
            if d.marked:
                overdue = True
        elif d.late or status == "expired":
            late = True
        t = d.next_timer()
        if t is not None and (first is None or t < first):
            first = t
        if d.provisional and status in ACTIVE:
            low = min(d.provisional)
            years = low if years is None or low < years else years
    return overdue, late, first, years


def provisional_from(case: Case) -> int | None:
    """The first provisional calendar year an active deadline of `case` was counted over."""
    years = [y for d in case.deadlines.values() if d.provisional and d.active for y in d.provisional]
    return min(years) if years else None


def case_from_values(row: Mapping[Any, Any],
                     instant: Callable[[Any], datetime | None] | None = None) -> Case:
    """Rebuild the `Case` from the values of its `cases` row; `instant` decodes the
    database's form of the instants (None: already decoded)."""
    owner = row["owner"]
    created, updated = row["created_at"], row["updated_at"]
    if instant is not None:
        created, updated = instant(created), instant(updated)
    return built(Case, {  # `Case(...)` with every field, without its keyword call
        "id": row["id"], "process_id": row["process_id"], "digest": row["digest"],
        "state": row["state"], "data": load_data(row["data"]),
        "deadlines": load_deadlines(row["deadlines"]), "seq": row["seq"],
        "last_hash": row["last_hash"], "created_at": created, "updated_at": updated,
        "owner": None if owner is None else _actor(owner, row["owner_role"]),
        "duplicate_of": row["duplicate_of"]})


class _Memo(dict[K, V]):
    """Values made once per key and kept, read as `memo[key]` (a plain dict look-up when
    the key is known; `make` only for a new one): decoded values that many rows share.
    Bounded: cleared when full. Only for immutable values, which callers then share."""

    def __init__(self, make: Callable[[K], V], limit: int = 4096) -> None:
        super().__init__()
        self._make, self._limit = make, limit

    def __missing__(self, key: K) -> V:
        value = self._make(key)
        if len(self) >= self._limit:
            self.clear()
        self[key] = value
        return value


# (name, role) -> the one `Actor` (frozen, so shared): the cases a tick reads were mostly
# started by a few receivers
_ACTOR_OF: _Memo[tuple[str, str | None], Actor] = _Memo(lambda key: Actor(*key))


def _actor(name: str, role: str | None) -> Actor:
    return _ACTOR_OF[(name, role)]


def decode_case(row: Mapping[Any, Any],
                instant: Callable[[Any], datetime | None] | None = None) -> Case:
    """`case_from_values`, with a row that does not decode (changed behind the engine's
    back) reported as `RecordUnreadable` naming the case, never as a bare exception."""
    try:
        case = case_from_values(row, instant)
        if type(case.seq) is not int:
            raise TypeError(f"seq {case.seq!r} is not an event number")
        return case
    except Exception as exc:  # a tampered row can be broken in any way
        raise RecordUnreadable(str(row["id"]), f"{type(exc).__name__}: {exc}") from exc


# text -> instant (fromisoformat costs as much as a fire's other work on these values)
_INSTANT_OF: _Memo[str, datetime] = _Memo(datetime.fromisoformat)
# a deadline's due and warning instants and its dates as text -> their values: the cases
# a tick reads are mostly due on a few days
_DAY_INSTANT_OF: _Memo[str, datetime] = _Memo(datetime.fromisoformat)
_DATE_OF: _Memo[str, date] = _Memo(date.fromisoformat)


def _instant_text(value: str) -> datetime:
    """`datetime.fromisoformat` of a due or warning instant, remembered."""
    return _DAY_INSTANT_OF[value]


def _date_text(value: str) -> date:
    """`date.fromisoformat`, remembered."""
    return _DATE_OF[value]


def instant_from_db(value: Any) -> datetime | None:
    """An instant column's value as an aware UTC datetime (SQLite: the fixed-width UTC text;
    PostgreSQL: a datetime). Pure, so the audit converts the raw values it reads with it."""
    if value is None:
        return None
    if isinstance(value, str):
        return _INSTANT_OF[value]
    return value.astimezone(UTC)  # type: ignore[no-any-return]
