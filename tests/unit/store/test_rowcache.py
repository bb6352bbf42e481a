"""`RowCache` on its own: which columns an append SETs, when a held row or case is used,
and when it is dropped (a stale sequence number, `forget`, a host's transaction, the limit)."""

from __future__ import annotations

from typing import Any

from flowengine.store.rowcache import RowCache
from tests.support.store import make_case

CHANGING = ("state", "data", "seq", "claimed_until")


def _row(case_id: str = "C1", **values: Any) -> dict[str, Any]:
    return {"id": case_id, "state": "registered", "data": "{}", "seq": 1,
            "claimed_until": None, **values}


def _cache(limit: int = 10, joined: bool = False) -> RowCache:
    return RowCache(CHANGING, limit=limit, joined=lambda: joined)


def test_an_unknown_case_sets_every_changing_column() -> None:
    assert _cache().changed(_row(), 1) == CHANGING


def test_a_held_row_sets_only_what_differs_and_the_claim() -> None:
    cache = _cache()
    cache.remember("C1", 1, _row())
    assert cache.changed(_row(state="accepted", seq=2), 1) == ("state", "seq", "claimed_until")
    assert cache.changed(_row(seq=2), 1) == ("seq", "claimed_until")


def test_a_row_held_at_another_seq_is_not_compared() -> None:
    cache = _cache()
    cache.remember("C1", 1, _row())
    assert cache.changed(_row(state="accepted", seq=3), 2) == CHANGING


def test_forget_drops_the_row_and_the_case() -> None:
    cache = _cache()
    cache.remember("C1", 1, _row(), make_case("C1", seq=1))
    cache.forget("C1")
    assert cache.changed(_row(seq=2), 1) == CHANGING
    assert cache.take("C1") is None
    cache.forget("C9")  # nothing held: no error


def test_the_held_case_is_handed_out_once_and_its_row_stays() -> None:
    """`take` gives the held object itself (no copy) and stops holding it: a second taker
    (another thread firing the same case) gets None and reads the case instead of folding
    into the same object; the row still decides the columns to SET."""
    cache = _cache()
    held = make_case("C1", seq=1)
    cache.remember("C1", 1, _row(), held)
    assert cache.take("C1") is held
    assert cache.take("C1") is None
    assert cache.changed(_row(seq=2), 1) == ("seq", "claimed_until")


def test_a_newer_write_holds_its_own_case_again() -> None:
    cache = _cache()
    cache.remember("C1", 1, _row(), make_case("C1", seq=1))
    taken = cache.take("C1")
    newer = make_case("C1", seq=2)
    cache.remember("C1", 2, _row(seq=2), newer)
    assert taken is not None and taken.seq == 1
    assert cache.take("C1") is newer


def test_a_row_remembered_without_a_case_drops_the_held_case() -> None:
    """A fresh read (`load_case`) remembers the row alone: a case held from before it is
    not handed out with a row it may not match."""
    cache = _cache()
    cache.remember("C1", 1, _row(), make_case("C1", seq=1))
    cache.remember("C1", 2, _row(seq=2))
    assert cache.take("C1") is None


def test_a_row_without_its_case_gives_no_case() -> None:
    cache = _cache()
    cache.remember("C1", 1, _row())
    assert cache.take("C1") is None
    assert cache.changed(_row(seq=2), 1) == ("seq", "claimed_until")


def test_nothing_is_kept_inside_a_host_transaction() -> None:
    cache = _cache(joined=True)
    cache.remember("C1", 1, _row(), make_case("C1", seq=1))
    assert len(cache) == 0 and cache.take("C1") is None


def test_remembering_in_a_host_transaction_drops_what_was_held() -> None:
    """A write inside a host's transaction may roll back: the row held before it may no
    longer be the stored one either way, so it goes."""
    inside = False
    cache = RowCache(CHANGING, limit=10, joined=lambda: inside)
    cache.remember("C1", 1, _row())
    inside = True
    cache.remember("C1", 2, _row(seq=2))
    assert cache.changed(_row(seq=2), 1) == CHANGING


def test_the_oldest_entry_goes_past_the_limit() -> None:
    cache = _cache(limit=2)
    for i in range(3):
        cache.remember(f"C{i}", 1, _row(f"C{i}"), make_case(f"C{i}", seq=1))
    assert len(cache) == 2
    assert cache.changed(_row("C0", seq=2), 1) == CHANGING  # dropped
    assert cache.take("C0") is None  # its case with it
    assert cache.changed(_row("C2", seq=2), 1) == ("seq", "claimed_until")


def test_past_the_limit_the_oldest_eighth_goes_at_once() -> None:
    """Dropping one entry per new one walked, each time, past every slot the dict still
    kept for the entries dropped before (a tick remembers thousands of rows): past the
    limit, the oldest eighth goes at once, the newest stay."""
    cache = _cache(limit=16)
    for i in range(17):
        cache.remember(f"C{i}", 1, _row(f"C{i}"), make_case(f"C{i}", seq=1))
    assert len(cache) == 14
    assert cache.take("C0") is None and cache.take("C1") is None and cache.take("C2") is None
    assert cache.changed(_row("C2", seq=2), 1) == CHANGING  # dropped
    assert cache.changed(_row("C3", seq=2), 1) == ("seq", "claimed_until")  # kept
    cache.remember("C17", 1, _row("C17"))
    assert len(cache) == 15  # under the limit: nothing goes


def test_a_newer_row_replaces_the_older_one() -> None:
    cache = _cache()
    cache.remember("C1", 1, _row())
    cache.remember("C1", 2, _row(seq=2, state="accepted"))
    assert cache.changed(_row(seq=3, state="accepted"), 2) == ("seq", "claimed_until")
    assert cache.changed(_row(seq=3), 1) == CHANGING
