"""Re-decide each stored event: plan it again on the pinned definition from the case as it
stood before, and require the very event that is stored.

Why: the hash chain proves only that nobody changed an event after it was written. A
forger who writes a whole new history (say `investigating → archived` by a role that may
not fire it) and recomputes every hash passes the chain check, and replay re-applies the
forged events faithfully. Planning each event again with the engine's own planner
(`plan_start`, `plan_fire`, `plan_timers`) asks what the engine would have done: the same
trigger, data, actor and instant on the case as it stood must give the same event body
(state change, data, deadline effects, notifications), or the event is reported.

What is re-decided (docs/audit.md):
- `started`: the start of the case with the data it records (`duplicate_of` as stored:
  which open case was a duplicate depends on the whole store at that time);
- `fired`: the trigger with the data given (the event's data less what the transition
  sets, computes, clears or signs); a fire by `system` counts as automatic only right
  after the timer at the same instant that asked for it;
- `timer`: the first timers due at the event's instant;
- `calendar` (deadlines recounted with official holiday data): the shape (by `system`, no
  trigger, state or data change, each effect a `recomputed` of an open provisional
  deadline changing only its due fields, from the due date it had), then the new due
  dates as below for a provisional year: the official data it used is not recorded.

A definition whose calendar was still provisional for some year is re-decided with its
pinned calendar; the engine may have laid newer official data over those years
(`Registry.effective`: the official years of the newest loaded version of the process),
which the store does not record. A period decided wholly before the first provisional
year counted only official days and must match exactly. When an effect's decided due date
falls in or after it and only due fields differ, the event is planned again on each
calendar the engine could have counted with (`cp` with the official years of another
stored version laid over, `official_variants`): one that gives the stored event settles
it; otherwise the calendar that counts the same years provisionally as the stored effects
say they were counted (their `provisional` marks) must give the same due dates, so a due
date forged within a provisional year is reported. Only when no calendar at hand counts
as the writer did (its official data is in no stored version: a newer national package)
are the due fields, and the notices that quote them, left unjudged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..engine.compiler import CompiledProcess
from ..engine.data import SIGNATURES
from ..engine.planner import plan_fire, plan_recompute, plan_start, plan_timers
from ..errors import FlowengineError
from ..records.case import SYSTEM, Case
from ..records.events import Event, canonical

DUE_FIELDS = frozenset({"due", "due_date", "warn_at", "provisional"})
RECOMPUTED = frozenset({"deadline", "op", "old_due_date", "provisional", "due", "due_date",
                        "warn_at", "start_date", "status", "rewarn", "why"})


Variants = Callable[[], Sequence[CompiledProcess]]


def redecide(cp: CompiledProcess, before: Case | None, event: Event,
             previous: Event | None, variants: Variants | None = None) -> str | None:
    """Why `event` is not what the engine decides on `before` (None: it is). `before` is
    None for the start; `previous` is the event before (for automatic fires); `variants`
    gives the calendars with official data a fire may have counted with instead of the
    pinned one (asked only when due dates in a provisional year differ)."""
    try:
        if event.type == "calendar":
            assert before is not None
            return _calendar(before, event) or _recount(cp, before, event, variants)
        planned = _plan(cp, before, event, previous)
    except FlowengineError as exc:
        why = _first_line(exc).removeprefix(f"case {event.case_id}: ")
        return f"re-deciding it on the pinned definition refuses it: {why}"
    except Exception as exc:  # noqa: BLE001 - a forged event can break planning in any way
        return f"re-deciding it on the pinned definition fails: {type(exc).__name__}: {exc}"
    if planned is None:
        return f"the engine never writes a '{event.type}' event"
    if planned.hash == event.hash:
        return None
    years = getattr(cp.calendar, "provisional_years", ())
    differ = _differences(planned, event, min(years) if years else None)
    if not differ:  # only due fields of effects reaching a provisional year differ
        return _provisional(before, event, previous, planned, variants)
    return (f"re-deciding the {_what(event)} on the pinned definition gives a different "
            f"event ({', '.join(differ)} differ: stored {_shown(event, differ[0])}, "
            f"decided {_shown(planned, differ[0])})")


def _provisional(before: Case | None, event: Event, previous: Event | None,
                 planned: Event, variants: Variants | None) -> str | None:
    """The due dates of an event that reach a provisional year (module doc): None when a
    calendar the engine could have counted with gives the stored event, or when none at
    hand counts the years the way the stored effects say they were counted."""
    marks = _marks(event)
    comparable = planned if _marks(planned) == marks else None
    for variant in variants() if variants is not None else ():
        try:
            other = _plan(variant, before, event, previous)
        except Exception:  # noqa: BLE001 - refused on this calendar: not the one used
            continue
        if other is not None and other.hash == event.hash:
            return None
        if comparable is None and other is not None and _marks(other) == marks:
            comparable = other
    if comparable is None:
        return None  # counted with official data no stored version holds: not judged
    return (f"re-deciding the {_what(event)} on the calendar it was counted with (the years "
            f"its effects mark provisional: {_years(marks)}) gives other due dates "
            f"({_how(event, comparable)})")


def _recount(cp: CompiledProcess, before: Case, event: Event,
             variants: Variants | None) -> str | None:
    """The new due dates of a recount, planned again (`plan_recompute`) with each calendar
    with official data at hand; judged like a fire's due dates in a provisional year."""
    marks = _marks(event)
    comparable = None
    for variant in [cp, *(variants() if variants is not None else ())]:
        try:
            planned = plan_recompute(variant, before, event.at)
        except Exception:  # noqa: BLE001 - refused on this calendar: not the one used
            continue
        if planned is None:
            continue
        if planned[0].hash == event.hash:
            return None
        if comparable is None and _marks(planned[0]) == marks:
            comparable = planned[0]
    if comparable is None:
        return None  # recounted with official data no stored version holds: not judged
    return (f"re-deciding the calendar recount with the official data at hand gives other "
            f"due dates ({_how(event, comparable)})")


def _how(stored: Event, decided: Event) -> str:
    """Which body keys differ, with the first one's stored and decided values."""
    a, b = decided.body(), stored.body()
    differ = [k for k in sorted(set(a) | set(b)) if canonical(a.get(k)) != canonical(b.get(k))]
    return (f"{', '.join(differ)} differ: stored {_shown(stored, differ[0])}, decided "
            f"{_shown(decided, differ[0])}")


def _marks(event: Event) -> tuple[tuple[int, ...], ...]:
    """Per effect, the years its period was counted over provisionally."""
    return tuple(tuple(e.get("provisional") or ()) for e in event.effects)


def _years(marks: tuple[tuple[int, ...], ...]) -> str:
    years = sorted({y for m in marks for y in m})
    return ", ".join(map(str, years)) if years else "none"


def _plan(cp: CompiledProcess, before: Case | None, event: Event,
          previous: Event | None) -> Event | None:
    if event.type == "started":
        given = {k: v for k, v in event.data.items()
                 if k in cp.start_records or k not in cp.start_defaults}
        return plan_start(cp, event.case_id, given, event.actor, event.at, event.duplicate_of)[0]
    assert before is not None
    if event.type == "timer":
        events, _ = plan_timers(cp, before, event.at)
        return events[0] if events else _no_timer(before, event)
    if event.type == "fired" and event.trigger is not None:
        auto = event.actor == SYSTEM and _asked_by_timer(previous, event)
        given = _given(cp, before, event)
        return plan_fire(cp, before, event.trigger, given, event.actor, event.at, auto=auto)[0]
    return None


class _NoTimer(FlowengineError):
    """No timer of the case was due at the stored timer event's instant."""


def _no_timer(before: Case, event: Event) -> Event:
    due = before.next_timer()
    shown = due.isoformat() if due is not None else "none"
    raise _NoTimer(f"no timer is due at {event.at.isoformat()} (the next one: {shown})")


def _asked_by_timer(previous: Event | None, event: Event) -> bool:
    return (previous is not None and previous.type == "timer" and previous.at == event.at
            and any(e.get("fire") == event.trigger for e in previous.effects))


def _given(cp: CompiledProcess, before: Case, event: Event) -> dict[str, Any]:
    """The data given with the fire: the event's data less what a candidate transition
    sets, computes, clears or signs (those are decided again, not taken as given)."""
    derived: set[str] = set()
    assert event.trigger is not None
    for c in cp.candidates.get(event.trigger, {}).get(before.state, ()):
        t = c.transition
        derived |= set(t.set) | set(t.compute) | set(t.clear)
        if t.signs:
            derived.add(SIGNATURES)
    return {k: v for k, v in event.data.items() if k not in derived and v is not None}


def _calendar(before: Case, event: Event) -> str | None:
    """The shape of a recount: only the due fields of open provisional deadlines."""
    if event.actor != SYSTEM or event.trigger or event.source or event.dest or event.data:
        return "a calendar recount by someone other than system, or with a trigger or data"
    if not event.effects:
        return "a calendar recount without effects"
    for e in event.effects:
        running = before.deadlines.get(str(e.get("deadline")))
        if e.get("op") != "recomputed" or not set(e) <= RECOMPUTED:
            return f"a calendar recount may only recount due dates, not {canonical(e)}"
        if running is None or not running.provisional or running.status not in (
                "open", "overdue"):
            return f"deadline {e.get('deadline')!r} was not an open provisional deadline"
        old = running.due_date.isoformat() if running.due_date else None
        if e.get("old_due_date") != old:
            return (f"deadline {e.get('deadline')!r}: old_due_date {e.get('old_due_date')} "
                    f"is not the due date it had ({old})")
        if e.get("status") not in ("open", "overdue"):
            return f"deadline {e.get('deadline')!r}: a recount cannot make it {e.get('status')}"
    return None


def _differences(planned: Event, stored: Event, provisional: int | None) -> list[str]:
    """The body keys that differ; `at` only when the instant differs (a late timer of an
    earlier version wrote the instant in the offset the store returned). `provisional`:
    the first year the pinned calendar has only provisionally; an effect whose decided due
    date lies in or after it may carry other due fields (official data laid over it), and
    then the notices (which quote the dates) are not compared either. A period decided
    wholly before that year counted only official days, which newer data does not change,
    so its due fields must be equal."""
    a, b = planned.body(), stored.body()
    differ = [k for k in sorted(set(a) | set(b)) if canonical(a.get(k)) != canonical(b.get(k))
              and not (k == "at" and planned.at == stored.at)]  # the instant, in any offset
    if provisional is None or "effects" not in differ:
        return differ
    excused = _excused(a["effects"], b["effects"], provisional)
    if excused is None:
        return differ
    return [k for k in differ if k != "effects" and not (k == "notifications" and excused)]


def _excused(planned: list[Any], stored: list[Any], provisional: int) -> bool | None:
    """None when the effects differ beyond what official data explains; else whether some
    due field differed (so the notices may differ too)."""
    if len(planned) != len(stored):
        return None
    excused = False
    for p, s in zip(planned, stored, strict=True):
        if canonical(p) == canonical(s):
            continue
        if canonical(_without_due(p)) != canonical(_without_due(s)) or not _reaches(
                p, provisional):
            return None
        excused = True
    return excused


def _without_due(effect: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in effect.items() if k not in DUE_FIELDS}


def _reaches(effect: Mapping[str, Any], provisional: int) -> bool:
    """Whether the decided due date lies in a year the pinned calendar has provisionally."""
    due = effect.get("due_date") or effect.get("due")
    return isinstance(due, str) and due[:4].isdigit() and int(due[:4]) >= provisional


def _what(event: Event) -> str:
    return f"{event.type} '{event.trigger}'" if event.trigger else event.type


def _shown(event: Event, key: str) -> str:
    text = canonical(event.body().get(key))
    return text if len(text) <= 80 else text[:77] + "…"


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


__all__ = ["redecide"]
