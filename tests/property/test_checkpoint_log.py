"""Checkpoint property on a real SQLite store: for random interleaved histories and a
checkpoint taken at a random point, `checkpoint.check` accepts every append-only
continuation, and for every mutation of the checkpointed prefix (an entry's hash or
recorded time changed, an entry deleted or taken out of the log, two entries swapped) it
fails and names the first mutated log index and the case now there (docs/audit.md).

The rows are written straight into `events` (the log reads only case, seq, recorded time,
hash and log index), so hundreds of histories run in seconds."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.audit.checkpoint import check, take
from flowengine.audit.log import sequence
from flowengine.store.sql import SqlStore

INSERT = ("INSERT INTO events (case_id, seq, at, type, actor_name, process_id, digest, body, "
          "prev_hash, hash, recorded_at) VALUES (?, ?, '2026-03-02T01:00:00.000000+00:00', "
          "'fired', 'x', 'p', 'd', '{}', 'p', ?, ?)")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "empty.db"
    SqlStore(f"sqlite:///{path}").close()
    return path


def _append(con: sqlite3.Connection, owners: list[int], seqs: dict[int, int],
            first: int) -> None:
    for n, owner in enumerate(owners, start=first):
        seqs[owner] = seqs.get(owner, 0) + 1
        recorded = f"2026-03-02T01:{n // 60 % 60:02d}:{n % 60:02d}.000000+00:00"
        con.execute(INSERT, (f"C{owner}", seqs[owner], hashlib.sha256(str(n).encode())
                             .hexdigest(), recorded))
    con.commit()


def _at(con: sqlite3.Connection, index: int) -> str:
    return str(con.execute("SELECT case_id FROM events WHERE log_index = ?",
                           (index,)).fetchone()[0])


MUTATIONS = ("hash", "recorded", "delete", "unindex", "swap")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.lists(st.integers(0, 4), min_size=1, max_size=40),
       more=st.lists(st.integers(0, 5), max_size=20), kind=st.sampled_from(MUTATIONS),
       data=st.data())
def test_continuations_extend_the_checkpoint_and_prefix_mutations_are_named(
        template: Path, tmp_path_factory: pytest.TempPathFactory, prefix: list[int],
        more: list[int], kind: str, data: Any) -> None:
    path = tmp_path_factory.mktemp("log") / "cases.db"
    shutil.copy(template, path)
    con = sqlite3.connect(path)
    seqs: dict[int, int] = {}
    _append(con, prefix, seqs, 0)
    store = SqlStore(f"sqlite:///{path}")
    try:
        cp = take(store, None)
        assert cp.size == len(prefix)
        _append(con, more, seqs, len(prefix))
        if data.draw(st.booleans()):
            sequence(store)  # the continuation may or may not be in the log yet
        assert check(store, cp) == []
        i = data.draw(st.integers(0, len(prefix) - 1))
        first, case = i, _at(con, i)
        where = "WHERE log_index = ?"
        if kind == "hash":
            con.execute(f"UPDATE events SET hash = ? {where}", ("f" * 64, i))
        elif kind == "recorded":
            con.execute(f"UPDATE events SET recorded_at = '2026-01-01T00:00:00.000000+00:00' "
                        f"{where}", (i,))
        elif kind == "delete":
            con.execute(f"DELETE FROM events {where}", (i,))
        elif kind == "unindex":
            con.execute(f"UPDATE events SET log_index = NULL {where}", (i,))
        else:
            j = data.draw(st.integers(0, len(prefix) + len(more) - 1).filter(lambda j: j != i))
            if j >= cp.size:
                sequence(store)
            con.execute(f"UPDATE events SET log_index = -1 {where}", (i,))
            con.execute(f"UPDATE events SET log_index = ? {where}", (i, j))
            con.execute("UPDATE events SET log_index = ? WHERE log_index = -1", (j,))
            first = min(i, j)
            case = _at(con, first) if first < cp.size else case
        con.commit()
        found = check(store, cp)
        assert found, (kind, i)
        assert found[0].index == first, (kind, found)
        if kind in ("hash", "recorded", "swap"):
            assert found[0].case_id == case, (kind, found)
    finally:
        store.close()
        con.close()
