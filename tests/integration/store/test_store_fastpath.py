"""The store's per-fire fast path: the memoised instant conversions, the kept cursors of
returned connections (which must never leave a read snapshot open) and fork safety."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flowengine.store.connect import _to_sqlite, instant_from_db
from flowengine.store.sql import SqlStore
from tests.support.store import DEFINITION, DIGEST, DUPLICATE_KEY, PROCESS, store_case


def test_memoised_instant_text_is_the_utc_text_of_each_instant() -> None:
    cst = timezone(timedelta(hours=8))
    a = datetime(2026, 3, 2, 9, 0, tzinfo=cst)
    b = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # the same instant, another offset
    assert _to_sqlite(a) == _to_sqlite(a) == "2026-03-02T01:00:00.000000+00:00"
    assert _to_sqlite(b) == "2026-03-02T01:00:00.000000+00:00"
    assert _to_sqlite(b + timedelta(microseconds=1)) == "2026-03-02T01:00:00.000001+00:00"
    assert instant_from_db("2026-03-02T01:00:00.000000+00:00") == b
    assert instant_from_db(_to_sqlite(a)) == a


def test_repeated_wall_time_in_a_zone_is_not_confused_by_the_memo() -> None:
    # 01:30 happens twice in New York on 2026-11-01; the two instants compare equal in
    # Python (same tzinfo: fold is ignored) but are an hour apart.
    ny = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ny)
    second = first.replace(fold=1)
    assert _to_sqlite(first) == "2026-11-01T05:30:00.000000+00:00"
    assert _to_sqlite(second) == "2026-11-01T06:30:00.000000+00:00"
    assert _to_sqlite(first) == "2026-11-01T05:30:00.000000+00:00"


def test_load_case_leaves_no_read_snapshot_open(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqlStore(f"sqlite:///{path}")
    try:
        store.save_definition(DIGEST, PROCESS, "1", DEFINITION, DUPLICATE_KEY)
        store_case(store, "C1")
        assert store.load_case("C-none") is None
        assert store.load_case("C1") is not None  # the last statement this cursor ran
        other = sqlite3.connect(path)
        try:  # a snapshot held by the store's connection would make this report busy
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            other.close()
        assert busy == 0
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 's.db'}")
    try:
        store.save_definition(DIGEST, PROCESS, "1", DEFINITION, DUPLICATE_KEY)
        store_case(store, "C1")
        with store._held.cursor() as parent_cursor:  # returned, and kept for the next call
            pass
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: must not touch the parent's connection
            with store._held.cursor() as cur:
                ok = cur is not parent_cursor
            ok = ok and store.load_case("C1") is not None
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.close(read)
        os.waitpid(pid, 0)
        assert answer == b"1"
        with store._held.cursor() as cur:
            assert cur is parent_cursor
    finally:
        store.close()
