"""Check one case's hash chain, event by event, and name the first place it breaks.

Why a cursor rather than a function over a list: `audit verify` streams millions of events
and must hold only the case being checked, so the check is fed one event at a time. The
rules, in the order they are checked for each event:

1. the event belongs to the case being checked;
2. sequence numbers run 1, 2, 3 … with no gap and no repeat (a gap means a deleted event,
   a step back means reordered or duplicated ones);
3. `prev_hash` is the previous event's `hash` (`GENESIS` for event 1);
4. `hash` is SHA-256 over the event's canonical body (`events.chain_hash`): any change to
   the content, or to the stored hash itself, shows here.

Only the first fault of a case is reported: everything after it is suspect anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import ChainBroken
from ..records.events import GENESIS, Event, chain_hash


@dataclass(frozen=True)
class ChainFault:
    """The first place a case's history does not verify: which event, and why."""

    case_id: str
    seq: int
    why: str

    def error(self) -> ChainBroken:
        return ChainBroken(self.case_id, self.seq, self.why)

    def __str__(self) -> str:
        return f"case {self.case_id}: event {self.seq}: {self.why}"

    def as_dict(self) -> dict[str, object]:
        return {"case": self.case_id, "seq": self.seq, "why": self.why}


class ChainCursor:
    """Walks one case's events in order; `fault` is the first broken link, if any."""

    __slots__ = ("case_id", "seq", "last_hash", "fault", "count")

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.seq = 0
        self.last_hash = GENESIS
        self.fault: ChainFault | None = None
        self.count = 0

    def feed(self, event: Event, content_hash: str | None = None) -> ChainFault | None:
        """Check the next event. `content_hash` is the hash of its stored canonical body when
        the caller already has it (see verify.py); otherwise it is recomputed here."""
        self.count += 1
        if self.fault is None:
            why = self._why(event, content_hash)
            if why is not None:
                self.fault = ChainFault(self.case_id, why[0], why[1])
        self.seq = max(self.seq, event.seq)
        self.last_hash = event.hash
        return self.fault

    def unreadable(self, seq: int, why: str) -> ChainFault | None:
        """A stored row that does not decode: a fault at its sequence number."""
        self.count += 1
        if self.fault is None:
            self.fault = ChainFault(self.case_id, seq, why)
        self.seq = max(self.seq, seq)
        self.last_hash = ""
        return self.fault

    def _why(self, event: Event, content_hash: str | None) -> tuple[int, str] | None:
        expected = self.seq + 1
        if event.case_id != self.case_id:
            return event.seq, f"the stored event belongs to case {event.case_id}"
        if event.seq != expected:
            return _seq_fault(expected, event.seq)
        if event.prev_hash != self.last_hash:
            before = "the genesis value" if expected == 1 else f"event {expected - 1}'s hash"
            return expected, (f"prev_hash does not link to {before} (an event before it was "
                              "changed, removed or reordered)")
        actual = content_hash if content_hash is not None else chain_hash(event.body())
        if actual != event.hash:
            return expected, ("the stored hash does not match the event's content (the event "
                              "or its hash was changed)")
        return None

    def finish(self, expected_last: int | None = None) -> ChainFault | None:
        """Close the walk; `expected_last` is the projection's sequence number, if known."""
        if self.fault is None and self.count == 0:
            self.fault = ChainFault(self.case_id, 1, "the case has no events")
        elif self.fault is None and expected_last is not None and expected_last > self.seq:
            self.fault = ChainFault(self.case_id, self.seq + 1,
                                    f"event {self.seq + 1} is missing: the case record says "
                                    f"its last event is {expected_last}")
        return self.fault


def _seq_fault(expected: int, found: int) -> tuple[int, str]:
    if found > expected:
        return expected, (f"event {expected} is missing or out of order "
                          f"(the next stored event is {found})")
    return found, f"event {found} is out of order or repeated (expected event {expected})"


def check_chain(case_id: str, events: Iterable[Event]) -> ChainFault | None:
    """The first fault in one case's history, or None when every link holds."""
    cursor = ChainCursor(case_id)
    for event in events:
        if cursor.feed(event) is not None:
            return cursor.fault
    return cursor.finish()


def require_chain(case_id: str, events: Iterable[Event]) -> None:
    """Raise `ChainBroken` (exit 1) naming the first broken event."""
    fault = check_chain(case_id, events)
    if fault is not None:
        raise fault.error()


__all__ = ["ChainCursor", "ChainFault", "check_chain", "require_chain"]
