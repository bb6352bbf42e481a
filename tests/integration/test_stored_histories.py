"""Histories written by an earlier event model still replay and verify.

`tests/fixtures/histories/v0004.db` was written by flowengine at schema revision 0004 (its
generator sits beside it) and holds every kind of deadline effect, signatures, a duplicate
petition and a `calendar` recount. Whatever the event model becomes, these stored events
must keep their hashes: each stored body decodes into an `Event` whose canonical body is
the very text stored, the chain verifies, and every case replays to its stored record."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from flowengine.audit.replay import Replayer
from flowengine.audit.verify import verify_store
from flowengine.records.events import canonical, chain_hash, event_from_dict
from flowengine.store.connect import open_engine
from flowengine.store.migrations import upgrade
from flowengine.store.sql import SqlStore

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "histories" / "v0004.db"
EFFECTS = {"started", "met", "cancelled", "superseded", "extended", "paused", "resumed",
           "recomputed", "warned", "overdue", "expired"}


@pytest.fixture
def history(tmp_path: Path) -> str:
    """A copy of the fixture brought to the current schema (as `flowengine db upgrade`)."""
    path = tmp_path / "v0004.db"
    shutil.copy(FIXTURE, path)
    url = f"sqlite:///{path}"
    engine = open_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _rows(url: str) -> list[tuple[str, str]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return list(db.execute("SELECT body, hash FROM events ORDER BY case_id, seq"))


def test_the_fixture_covers_every_effect_a_duplicate_signatures_and_a_recount(history: str) -> None:
    ops: Counter[str] = Counter()
    types: Counter[str] = Counter()
    duplicates = signed = 0
    for body, _hash in _rows(history):
        doc = json.loads(body)
        types[doc["type"]] += 1
        ops.update(effect["op"] for effect in doc["effects"])
        duplicates += "duplicate_of" in doc["data"]
        signed += "signatures" in doc["data"]
    assert set(ops) == EFFECTS
    assert set(types) == {"started", "fired", "timer", "calendar"}
    assert duplicates >= 1 and signed >= 1


def test_each_stored_body_is_the_canonical_body_of_the_event_it_decodes_to(history: str) -> None:
    rows = _rows(history)
    assert len(rows) > 500
    for body, stored_hash in rows:
        event = event_from_dict({**json.loads(body), "hash": stored_hash})
        assert canonical(event.body()) == body, (event.case_id, event.seq)
        assert chain_hash(event.body()) == stored_hash


def test_the_stored_histories_verify_and_replay(history: str) -> None:
    store = SqlStore(history)
    try:
        report = verify_store(store)
        assert report.ok, report.as_dict()
        assert report.cases == len({json.loads(b)["case_id"] for b, _ in _rows(history)})
        replayer = Replayer(store)
        case_ids = sorted({json.loads(b)["case_id"] for b, _ in _rows(history)})
        assert all(replayer.replay(case_id).ok for case_id in case_ids)
    finally:
        store.close()
