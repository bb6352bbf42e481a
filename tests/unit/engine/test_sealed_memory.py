"""A sealed event keeps its canonical text in memory of the text's size.

`Draft.seal` keeps the bytes it hashed on the event for the store to write. orjson hands
its output back in a buffer of several KiB whatever the text's length; a tick keeps every
event it fires until it returns, so each would hold that buffer (and the tick fault in
fresh pages for all of them). The text must be kept in an allocation of its own size.
"""

from __future__ import annotations

import tracemalloc
from datetime import datetime, timedelta, timezone

from flowengine.records.case import Actor, Case
from flowengine.records.events import Draft, canonical_bytes
from tests.support.engine import DraftContext

CST = timezone(timedelta(hours=8))


def _draft(n: int) -> Draft:
    case = Case(id=f"C{n:06d}", process_id="medical_dispute", digest="d" * 64,
                state="mediation", data={}, seq=7, last_hash="ab" * 32)
    ctx = DraftContext(case, "medical_dispute", "d" * 64, datetime(2026, 5, 4, 9, 33, tzinfo=CST),
                   Actor("system", "system"))
    return Draft(ctx, "timer", effects=({"op": "expired", "deadline": "mediation"},))


NOTICE = ({"kind": "expired", "messages": {"en": "the mediation period ended " * 8,
                                           "zh": "调解期限届满，视为调解不成" * 8}},)


def test_the_kept_body_takes_no_more_memory_than_its_text() -> None:
    _draft(0).seal(NOTICE)  # the encoder's own first-use allocations, not counted
    tracemalloc.start()
    try:
        grown = []
        kept = []
        for n in range(1, 21):
            before = tracemalloc.get_traced_memory()[0]
            body = _draft(n).seal(NOTICE).sealed_body  # the event and its draft are gone
            assert body is not None
            grown.append(tracemalloc.get_traced_memory()[0] - before)
            kept.append(body)
    finally:
        tracemalloc.stop()
    assert kept[0] == canonical_bytes(_draft(1).seal(NOTICE).body())
    # the bytes header, the allocator's rounding and the two lists growing: well under a
    # KiB beyond the text (orjson's own buffer: several KiB)
    assert max(g - len(b) for g, b in zip(grown, kept, strict=True)) < 1024, grown
