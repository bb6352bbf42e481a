"""The checkpoint tamper tests on a real PostgreSQL server: after a signed checkpoint, each
plain-SQL change (a deleted case, a truncated case, a case rewritten with recomputed
hashes and projection, reordered log entries, a changed recorded time) is caught by
`audit verify --checkpoint` naming the first changed log index and its case; another
key's signature is refused; an inclusion proof checks with the standard library alone."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.sql import run_sql
from tests.support.tamper import build_cases, forge

from .conftest import Cli
from .test_checkpoint import ARCHIVE, CHECK

pytestmark = pytest.mark.postgres




def _index(url: str, case_id: str, seq: int) -> int:
    return int(run_sql(url, "SELECT log_index FROM events WHERE case_id = :c AND seq = :s",
                    c=case_id, s=seq)[0][0])


def _delete_case(url: str, ids: list[str]) -> tuple[int, str]:
    first = _index(url, ids[1], 1)
    for table, column in (("outbox", "case_id"), ("events", "case_id"), ("cases", "id")):
        run_sql(url, f"DELETE FROM {table} WHERE {column} = :c", c=ids[1])
    return first, ids[1]


def _truncate(url: str, ids: list[str]) -> tuple[int, str]:
    seventh = _index(url, ids[0], 7)
    (h6,) = run_sql(url, "SELECT hash FROM events WHERE case_id = :c AND seq = 6", c=ids[0])[0]
    run_sql(url, "DELETE FROM events WHERE case_id = :c AND seq > 6", c=ids[0])
    run_sql(url, "UPDATE cases SET seq = 6, last_hash = :h WHERE id = :c", h=h6, c=ids[0])
    return seventh, ids[0]


def _rewrite(url: str, ids: list[str]) -> tuple[int, str]:
    """Event 4 of case 0 with another department, every later hash recomputed."""
    rows = run_sql(url, "SELECT seq, body FROM events WHERE case_id = :c ORDER BY seq", c=ids[0])
    prev = "0" * 64
    for seq, body in rows:
        doc = json.loads(body)
        doc["prev_hash"] = prev
        if seq == 4:
            doc["data"]["department"] = "公安局"
        canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        prev = hashlib.sha256(canon.encode()).hexdigest()
        run_sql(url, "UPDATE events SET body = :b, hash = :h, prev_hash = :p WHERE case_id = :c "
             "AND seq = :s", b=canon, h=prev, p=doc["prev_hash"], c=ids[0], s=seq)
    run_sql(url, "UPDATE cases SET last_hash = :h, data = replace(data, '城管局', '公安局') "
         "WHERE id = :c", h=prev, c=ids[0])
    return _index(url, ids[0], 4), ids[0]


def _reorder(url: str, ids: list[str]) -> tuple[int, str]:
    third, fourth = _index(url, ids[1], 3), _index(url, ids[1], 4)
    run_sql(url, "UPDATE events SET log_index = -1 WHERE case_id = :c AND seq = 3", c=ids[1])
    run_sql(url, "UPDATE events SET log_index = :i WHERE case_id = :c AND seq = 4", i=third,
         c=ids[1])
    run_sql(url, "UPDATE events SET log_index = :i WHERE log_index = -1", i=fourth)
    return third, ids[1]


def _recorded(url: str, ids: list[str]) -> tuple[int, str]:
    run_sql(url, "UPDATE events SET recorded_at = '2026-03-05T02:00:00+00' WHERE case_id = :c "
         "AND seq = 4", c=ids[1])
    return _index(url, ids[1], 4), ids[1]


TAMPERS: dict[str, tuple[Callable[[str, list[str]], tuple[int, str]], bool]] = {
    # name: (tamper, whether the per-case chains and projections still verify)
    "deleted case": (_delete_case, True),
    "truncated case": (_truncate, False),  # only seq and last_hash rolled back here
    "rewritten case": (_rewrite, True),
    "reordered log entries": (_reorder, True),
    "changed recorded time": (_recorded, True),
}


@pytest.fixture
def signed(cli: Cli, pg_url: str) -> tuple[Cli, str, list[str], Path, Path]:
    ids = build_cases(pg_url, ("甲", "乙", "丙"))
    key = cli.folder / "auditor.key"
    assert cli("audit", "keygen", str(key)).code == 0
    cp = cli.folder / "cp.txt"
    r = cli("audit", "checkpoint", "--key", str(key), "-o", str(cp), env={"FLOWENGINE_DB": pg_url})
    assert r.code == 0, r
    return cli, pg_url, ids, cp, Path(f"{key}.pub")


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_tampering_after_a_checkpoint_is_named_on_postgresql(
        signed: tuple[Cli, str, list[str], Path, Path], kind: str) -> None:
    cli, url, ids, cp, pub = signed
    env = {"FLOWENGINE_DB": url}
    args = ("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub), "--json")
    assert cli(*args, env=env).code == 0
    tamper, chains_still_verify = TAMPERS[kind]
    expected = tamper(url, ids)
    assert (cli("audit", "verify", env=env).code == 0) is chains_still_verify
    r = cli(*args, env=env)
    assert r.code == 1 and "Traceback" not in r.stderr, r
    findings = r.json()["checkpoint"]["findings"]
    assert (findings[0]["index"], findings[0]["case"]) == expected


def test_another_key_is_refused_and_proofs_check_on_postgresql(
        signed: tuple[Cli, str, list[str], Path, Path]) -> None:
    cli, url, ids, cp, pub = signed
    env = {"FLOWENGINE_DB": url}
    other = cli.folder / "other.key"
    assert cli("audit", "keygen", str(other)).code == 0
    r = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", f"{other}.pub", env=env)
    assert r.code == 1 and "signed with another key" in r.stderr
    r = cli("audit", "prove", ids[2], "5", "--checkpoint", str(cp), "--pubkey", str(pub),
            env=env)
    assert r.code == 0, r
    run = subprocess.run([sys.executable, "-I", "-c", CHECK], input=r.stdout, text=True,
                         capture_output=True, check=True)
    assert run.stdout.strip() == "included"


def _verify(cli: Cli, url: str, cp: Path, pub: Path) -> tuple[Any, list[str]]:
    env = {"FLOWENGINE_DB": url}
    args = ("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub))
    r = cli(*args, "--json", env=env)
    assert r.code == 1 and "Traceback" not in r.stderr, r
    text = cli(*args, env=env)
    return r.json(), text.stdout.splitlines()


def _placed(doc: Any) -> list[tuple[str, int, int | None, bool]]:
    return sorted((b["case"], b["seq"], b["log_index"], b["covered"]) for b in doc["broken"])


def test_an_edited_definition_names_its_cases_and_entries_on_postgresql(
        signed: tuple[Cli, str, list[str], Path, Path]) -> None:
    cli, url, ids, cp, pub = signed
    run_sql(url, "UPDATE definitions SET text = replace(text, 'length: 60 days', "
         "'length: 90 days')")
    doc, lines = _verify(cli, url, cp, pub)
    assert doc["checkpoint"]["extended"] is True
    starts = sorted((c, 1, _index(url, c, 1), True) for c in ids)
    [definition] = doc["broken_definitions"]
    assert sorted((p["case"], p["seq"], p["log_index"], p["covered"])
                  for p in definition["pinned"]) == starts == _placed(doc)
    for case_id, _, index, _ in starts:
        assert (f"  pinned by case {case_id}: event 1 [log index {index}, covered by the "
                "checkpoint]") in lines


def test_events_forged_with_valid_hashes_are_named_on_postgresql(
        signed: tuple[Cli, str, list[str], Path, Path]) -> None:
    """One appended after the checkpoint (case 0's event 9: not in the log yet, then after
    the checkpoint once a later one sequenced it), one forged inside it (case 1 from event
    4, at the replaced event's log index): each named with case and index."""
    cli, url, ids, cp, pub = signed
    env = {"FLOWENGINE_DB": url}
    forge(url, ids[0], 8, [{**ARCHIVE, "source": "replied"}])
    doc, lines = _verify(cli, url, cp, pub)
    assert doc["checkpoint"]["extended"] is True
    assert _placed(doc) == [(ids[0], 9, None, False)]
    assert any(line.startswith(f"BROKEN case {ids[0]}: event 9: ") and line.endswith(
        "[not in the log yet: written after the last checkpoint taken]") for line in lines)
    assert cli("audit", "checkpoint", "-o", str(cli.folder / "later.txt"), env=env).code == 0
    nine = _index(url, ids[0], 9)
    assert nine == 24 and _placed(_verify(cli, url, cp, pub)[0]) == [(ids[0], 9, 24, False)]
    fourth = _index(url, ids[1], 4)
    forge(url, ids[1], 3, [ARCHIVE])
    run_sql(url, "UPDATE events SET log_index = :i WHERE case_id = :c AND seq = 4", i=fourth,
         c=ids[1])
    doc, lines = _verify(cli, url, cp, pub)
    assert (fourth, ids[1]) in [(f["index"], f["case"]) for f in doc["checkpoint"]["findings"]]
    assert _placed(doc) == sorted([(ids[1], 4, fourth, True), (ids[0], 9, 24, False)])
    assert any(line.startswith(f"BROKEN case {ids[1]}: event 4: ") and line.endswith(
        f"[log index {fourth}, covered by the checkpoint]") for line in lines)
    assert any(line.startswith(f"BROKEN case {ids[0]}: event 9: ") and line.endswith(
        "[log index 24, after the checkpoint]") for line in lines)
