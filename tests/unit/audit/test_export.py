"""Export: the JSON keeps every event whole (re-checkable outside flowengine), CSV one row each."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from flowengine.audit.export import CSV_COLUMNS, export_text
from tests.support.audit import new_engine, walk_standard


def test_json_export_can_be_verified_by_hand() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    doc = json.loads(export_text(case.id, engine.history(case.id), "json"))
    assert doc["case"] == case.id and len(doc["events"]) == case.seq
    prev = "0" * 64
    for event in doc["events"]:
        body = {k: v for k, v in event.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert event["prev_hash"] == prev
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == event["hash"]
        prev = event["hash"]


def test_csv_export_has_one_row_per_event() -> None:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    text = export_text(case.id, engine.history(case.id), "csv")
    assert text.startswith("\ufeffcase,seq,at")  # the BOM: Excel then reads UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == case.seq
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1]["trigger"] == "accept" and rows[1]["role"] == "clerk"
    assert "handling: started: due" in rows[1]["deadlines"]
    assert json.loads(rows[0]["data"])["petitioner"] == "张三"
    assert rows[-1]["hash"] == engine.case(case.id).last_hash


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        export_text("C1", [], "xml")
