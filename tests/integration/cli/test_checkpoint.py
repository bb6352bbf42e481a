"""Signed checkpoints of the store-wide log: each tamper below, done with plain SQL after a
checkpoint (and invisible to the per-case chains where the forger recomputed hashes and
projection), is caught by `audit verify --checkpoint` naming the log index and the case;
a checkpoint signed with another key is refused; `audit prove` gives an inclusion proof
that a script using only the standard library accepts."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.tamper import build_cases, forge

from .conftest import Cli

CHECK = r'''
import hashlib, json, sys
doc = json.load(sys.stdin)
node = lambda l, r: hashlib.sha256(b"\x01" + l + r).digest()
leaf = hashlib.sha256(b"\x00" + doc["leaf"].encode()).digest()
assert leaf.hex() == doc["leaf_hash"]
fn, sn, r = doc["index"], doc["size"] - 1, leaf
for p in map(bytes.fromhex, doc["proof"]):
    assert sn > 0
    if fn & 1 or fn == sn:
        r = node(p, r)
        while fn & 1 == 0 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        r = node(r, p)
    fn >>= 1; sn >>= 1
print("included" if sn == 0 and r.hex() == doc["root"] else "NOT included")
'''


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("pristine") / "cases.db"
    return path, build_cases(f"sqlite:///{path}", ("甲", "乙", "丙"))


@pytest.fixture
def signed(pristine: tuple[Path, list[str]], cli: Cli) -> tuple[Cli, list[str], Path, Path]:
    """A copy with a checkpoint over its 24 events, signed with a fresh key."""
    shutil.copy(pristine[0], cli.db)
    key = cli.folder / "auditor.key"
    assert cli("audit", "keygen", str(key)).code == 0
    cp = cli.folder / "cp.txt"
    r = cli("audit", "checkpoint", "--key", str(key), "-o", str(cp))
    assert r.code == 0, r
    return cli, pristine[1], cp, Path(f"{key}.pub")


def _sql(db: Path, *statements: str, args: tuple[object, ...] = ()) -> None:
    con = sqlite3.connect(db)
    with con:
        for s in statements:
            assert con.execute(s, args).rowcount >= 1, s
    con.close()


def _index(db: Path, case_id: str, seq: int) -> int:
    con = sqlite3.connect(db)
    (index,) = con.execute("SELECT log_index FROM events WHERE case_id = ? AND seq = ?",
                           (case_id, seq)).fetchone()
    con.close()
    return int(index)


def _findings(cli: Cli, cp: Path, pub: Path) -> list[tuple[int, str | None]]:
    r = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub), "--json")
    assert r.code == 1, r
    doc = r.json()["checkpoint"]
    assert doc["extended"] is False
    text = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub))
    assert "the log is not an extension of the checkpoint; first at log index" in text.stderr
    return [(f["index"], f["case"]) for f in doc["findings"]]


def test_the_checkpoint_format_and_an_untouched_log(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    lines = cp.read_text().splitlines()
    assert lines[0] == "flowengine-checkpoint/3" and lines[1] == "size 24"
    assert [line.split()[0] for line in lines[1:9]] == ["size", "root", "time", "heads",
                                                        "leaves", "outbox", "key", "sig"]
    assert lines[9] == "" and lines[13] == "" and lines[15:] == [""]  # no outbox rows here
    assert lines[6] == f"outbox {hashlib.sha256(b'').hexdigest()}"
    assert sorted(line.split()[0] for line in lines[10:13]) == sorted(ids)  # one head per case
    fingerprints = lines[14]  # 24 leaves: one line of 4-byte fingerprints
    start, hexes = fingerprints.split()
    assert start == "0" and len(hexes) == 24 * 8
    con = sqlite3.connect(cli.db)
    rows = con.execute("SELECT case_id, seq, recorded_at, hash FROM events "
                       "ORDER BY log_index").fetchall()
    con.close()
    for i, (case_id, seq, recorded, hash_) in enumerate(rows):  # the documented leaf text
        at = datetime.fromisoformat(recorded).astimezone(UTC).isoformat(timespec="microseconds")
        leaf = f"{case_id}\n{seq}\n{at}\n{hash_}".encode()
        assert hashlib.sha256(b"\x00" + leaf).hexdigest()[:8] == hexes[i * 8:i * 8 + 8]
    r = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub))
    assert r.code == 0, r
    assert "the log is an append-only extension of it" in r.stdout
    # events appended after the checkpoint do not break it
    cli.start()
    assert cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub)).code == 0
    again = cli.folder / "cp2.txt"
    assert cli("audit", "checkpoint", "-o", str(again)).code == 0
    assert again.read_text().splitlines()[1] == "size 25"


def test_deleted_case(signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    first = _index(cli.db, ids[1], 1)
    con = sqlite3.connect(cli.db)
    with con:  # every trace of the case: outbox (if any), events, record
        for table, column in (("outbox", "case_id"), ("events", "case_id"), ("cases", "id")):
            con.execute(f"DELETE FROM {table} WHERE {column} = ?", (ids[1],))
    con.close()
    assert cli("audit", "verify").code == 0  # the chains alone cannot see it
    assert _findings(cli, cp, pub)[0] == (first, ids[1])


def test_truncated_case_with_its_projection_rolled_back(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    seventh = _index(cli.db, ids[2], 7)
    con = sqlite3.connect(cli.db)
    (h6,) = con.execute("SELECT hash FROM events WHERE case_id = ? AND seq = 6",
                        (ids[2],)).fetchone()
    con.close()
    _sql(cli.db, "DELETE FROM events WHERE case_id = ? AND seq > 6", args=(ids[2],))
    _sql(cli.db, "UPDATE cases SET seq = 6, last_hash = ? WHERE id = ?", args=(h6, ids[2]))
    assert _findings(cli, cp, pub)[0] == (seventh, ids[2])


def test_case_rewritten_with_recomputed_hashes_and_projection(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    """The forger rebuilds case 0 through the API with other data: valid chain, valid
    projection, same number of events; only the checkpoint knows."""
    cli, ids, cp, pub = signed
    con = sqlite3.connect(cli.db)
    rows = con.execute("SELECT seq, body FROM events WHERE case_id = ? ORDER BY seq",
                       (ids[0],)).fetchall()
    prev = "0" * 64
    with con:
        for seq, body in rows:
            doc = json.loads(body)
            doc["prev_hash"] = prev
            if seq == 4:
                doc["data"]["department"] = "公安局"
            text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            prev = hashlib.sha256(text.encode()).hexdigest()
            con.execute("UPDATE events SET body = ?, hash = ?, prev_hash = ? "
                        "WHERE case_id = ? AND seq = ?", (text, prev, doc["prev_hash"],
                                                          ids[0], seq))
        (data,) = con.execute("SELECT data FROM cases WHERE id = ?", (ids[0],)).fetchone()
        con.execute("UPDATE cases SET last_hash = ?, data = ? WHERE id = ?",
                    (prev, data.replace("城管局", "公安局"), ids[0]))
    con.close()
    assert cli("audit", "verify").code == 0  # chain and projection are consistent
    found = _findings(cli, cp, pub)
    assert found[0] == (_index(cli.db, ids[0], 4), ids[0])  # where the rewrite began
    assert (_index(cli.db, ids[0], 8), ids[0]) in found  # and its changed head


def test_edited_definition_after_a_checkpoint(signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    _sql(cli.db, "UPDATE definitions SET text = replace(text, 'length: 60 days', "
         "'length: 90 days') WHERE digest IN (SELECT digest FROM cases)")
    r = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub), "--json")
    assert r.code == 1 and r.json()["broken_definitions"]
    assert r.json()["checkpoint"]["extended"] is True  # the log itself did not change


def _broken(cli: Cli, cp: Path, pub: Path) -> tuple[Any, str]:
    """`verify --checkpoint` as JSON (exit 1) and its text output."""
    r = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub), "--json")
    assert r.code == 1 and "Traceback" not in r.stderr, r
    text = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", str(pub))
    assert text.code == 1
    return r.json(), text.stdout


def test_an_edited_definition_names_its_cases_and_the_entries_that_pin_them(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    """The log itself is unchanged (the text is no leaf), but each case pinned to the text
    is named with the log index of its `started` event, which carries the digest and which
    the checkpoint covers."""
    cli, ids, cp, pub = signed
    _sql(cli.db, "UPDATE definitions SET text = replace(text, 'length: 60 days', "
         "'length: 90 days') WHERE digest IN (SELECT digest FROM cases)")
    doc, text = _broken(cli, cp, pub)
    assert doc["checkpoint"]["extended"] is True
    [definition] = doc["broken_definitions"]
    starts = {c: _index(cli.db, c, 1) for c in ids}
    assert sorted((p["case"], p["seq"], p["log_index"], p["covered"])
                  for p in definition["pinned"]) == sorted((c, 1, i, True)
                                                           for c, i in starts.items())
    assert sorted((b["case"], b["seq"], b["log_index"], b["covered"])
                  for b in doc["broken"]) == sorted((c, 1, i, True)
                                                    for c, i in starts.items())
    for case_id, index in starts.items():
        assert (f"  pinned by case {case_id}: event 1 [log index {index}, covered by the "
                "checkpoint]") in text.splitlines()
        assert any(line.startswith(f"BROKEN case {case_id}: event 1: ") and line.endswith(
            f"[log index {index}, covered by the checkpoint]") for line in text.splitlines())


ARCHIVE = {"trigger": "archive", "source": "investigating", "dest": "archived",
           "data": {}, "effects": (), "notifications": ()}


def test_an_event_forged_with_a_valid_hash_inside_the_checkpoint_is_named(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    """Case 1 rewritten from event 4 (`investigating → archived`, valid hashes, matching
    record), the forged event put at the log index of the event it replaced."""
    cli, ids, cp, pub = signed
    fourth = _index(cli.db, ids[1], 4)
    forge(cli.url, ids[1], 3, [ARCHIVE])
    _sql(cli.db, f"UPDATE events SET log_index = {fourth} WHERE case_id = ? AND seq = 4",
         args=(ids[1],))
    doc, text = _broken(cli, cp, pub)
    findings = [(f["index"], f["case"]) for f in doc["checkpoint"]["findings"]]
    assert (fourth, ids[1]) in findings  # its fingerprint differs
    [broken] = doc["broken"]
    assert (broken["case"], broken["seq"], broken["log_index"], broken["covered"]) == (
        ids[1], 4, fourth, True)
    assert "re-deciding it on the pinned definition refuses it" in broken["why"]
    assert any(line.startswith(f"BROKEN case {ids[1]}: event 4: ") and line.endswith(
        f"[log index {fourth}, covered by the checkpoint]") for line in text.splitlines())


def test_an_event_forged_after_the_checkpoint_is_named(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    """An event appended after the checkpoint with a valid hash (case 0 archived straight
    from `replied`): the log still extends the checkpoint, re-deciding refuses the event,
    named with its case and its place: not in the log yet, then after the checkpoint once
    a later checkpoint has sequenced it."""
    cli, ids, cp, pub = signed
    forge(cli.url, ids[0], 8, [{**ARCHIVE, "source": "replied"}])
    doc, text = _broken(cli, cp, pub)
    assert doc["checkpoint"]["extended"] is True
    [broken] = doc["broken"]
    assert (broken["case"], broken["seq"], broken["log_index"], broken["covered"]) == (
        ids[0], 9, None, False)
    assert any(line.startswith(f"BROKEN case {ids[0]}: event 9: ") and line.endswith(
        "[not in the log yet: written after the last checkpoint taken]")
        for line in text.splitlines())
    assert cli("audit", "checkpoint", "-o", str(cli.folder / "later.txt")).code == 0
    doc, text = _broken(cli, cp, pub)
    [broken] = doc["broken"]
    assert (broken["case"], broken["seq"], broken["log_index"], broken["covered"]) == (
        ids[0], 9, 24, False)
    assert "[log index 24, after the checkpoint]" in text


def test_deleted_and_reordered_log_entries(signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    third, fourth = _index(cli.db, ids[1], 3), _index(cli.db, ids[1], 4)
    _sql(cli.db, "UPDATE events SET log_index = -1 WHERE case_id = ? AND seq = 3",
         args=(ids[1],))
    _sql(cli.db, f"UPDATE events SET log_index = {third} WHERE case_id = ? AND seq = 4",
         args=(ids[1],))
    _sql(cli.db, f"UPDATE events SET log_index = {fourth} WHERE case_id = ? AND seq = 3",
         args=(ids[1],))
    found = _findings(cli, cp, pub)
    assert found[0] == (third, ids[1])  # the first index whose entry changed
    assert (fourth, ids[1]) in found  # event 3 now after event 4
    _sql(cli.db, "UPDATE events SET log_index = NULL WHERE case_id = ? AND seq = 5",
         args=(ids[1],))  # the entry taken out of the log
    assert _findings(cli, cp, pub)[0][0] == third


def test_a_checkpoint_signed_with_another_key_or_edited_is_refused(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    other = cli.folder / "other.key"
    assert cli("audit", "keygen", str(other)).code == 0
    r = cli("audit", "verify", "--checkpoint", str(cp), "--pubkey", f"{other}.pub")
    assert r.code == 1 and "signed with another key" in r.stderr and "Traceback" not in r.stderr
    forged = cli.folder / "forged.txt"
    text = cp.read_text()
    root = text.splitlines()[2]
    forged.write_text(text.replace(root, f"root {'0' * 64}"))
    r = cli("audit", "verify", "--checkpoint", str(forged), "--pubkey", str(pub))
    assert r.code == 1 and "the signature does not hold" in r.stderr
    forged.write_text(text.replace("size 24", "size 23"))  # no longer fits its fingerprints
    r = cli("audit", "verify", "--checkpoint", str(forged), "--pubkey", str(pub))
    assert r.code == 1 and "24 leaf fingerprints for a log of 23 entries" in r.stderr
    block = text.split("\n\n")[2]
    flipped = block[:2] + ("f" if block[2] != "f" else "e") + block[3:]  # "0 <hex>"
    forged.write_text(text.replace(block, flipped))
    r = cli("audit", "verify", "--checkpoint", str(forged))
    assert r.code == 1 and "line 6: the leaf fingerprints below do not match" in r.stderr
    forged.write_text("hello\n")
    r = cli("audit", "verify", "--checkpoint", str(forged))
    assert r.code == 1 and f"{forged}: line 1: not a flowengine checkpoint" in r.stderr


def test_inclusion_proof_checked_with_the_standard_library_alone(
        signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    r = cli("audit", "prove", ids[2], "5", "--checkpoint", str(cp), "--pubkey", str(pub))
    assert r.code == 0, r
    doc = json.loads(r.stdout)
    assert doc["index"] == _index(cli.db, ids[2], 5) and doc["leaf"].startswith(f"{ids[2]}\n5\n")
    run = subprocess.run([sys.executable, "-I", "-c", CHECK], input=r.stdout, text=True,
                         capture_output=True, check=True)
    assert run.stdout.strip() == "included"
    doc["leaf"] = doc["leaf"].replace("\n5\n", "\n6\n")
    doc["leaf_hash"] = hashlib.sha256(b"\x00" + doc["leaf"].encode()).hexdigest()
    run = subprocess.run([sys.executable, "-I", "-c", CHECK], input=json.dumps(doc), text=True,
                         capture_output=True, check=True)
    assert run.stdout.strip() == "NOT included"


def test_swapped_entries_of_two_cases_neither_last_are_named(cli: Cli) -> None:
    """Two cases written in turns, so swapping their third events keeps each case's order
    and neither is a case's last: only the leaf fingerprints say where."""
    ids = build_interleaved(cli.url)
    cp = cli.folder / "cp.txt"
    assert cli("audit", "checkpoint", "-o", str(cp)).code == 0
    a, b = _index(cli.db, ids[0], 3), _index(cli.db, ids[1], 3)
    assert a + 1 == b
    _sql(cli.db, "UPDATE events SET log_index = -1 WHERE case_id = ? AND seq = 3", args=(ids[0],))
    _sql(cli.db, f"UPDATE events SET log_index = {a} WHERE case_id = ? AND seq = 3",
         args=(ids[1],))
    _sql(cli.db, f"UPDATE events SET log_index = {b} WHERE log_index = -1")
    assert cli("audit", "verify").code == 0
    r = cli("audit", "verify", "--checkpoint", str(cp), "--json")
    assert r.code == 1
    found = [(f["index"], f["case"]) for f in r.json()["checkpoint"]["findings"]]
    assert found == [(a, ids[1]), (b, ids[0])]


def test_a_changed_recorded_time_is_named(signed: tuple[Cli, list[str], Path, Path]) -> None:
    cli, ids, cp, pub = signed
    _sql(cli.db, "UPDATE events SET recorded_at = '2026-03-05T02:00:00.000000+00:00' "
         "WHERE case_id = ? AND seq = 4", args=(ids[2],))
    assert _findings(cli, cp, pub) == [(_index(cli.db, ids[2], 4), ids[2])]


def test_a_version_2_checkpoint_is_still_read(signed: tuple[Cli, list[str], Path, Path]) -> None:
    """Files written before the outbox block: checked by root, heads and fingerprints."""
    cli, ids, cp, pub = signed
    from flowengine.audit.checkpoint import parse

    old = parse(cp.read_text(), str(cp))
    old.outbox, old.key, old.signature = None, "none", "none"
    v2 = cli.folder / "v2.txt"
    v2.write_text(old.text())
    assert v2.read_text().startswith("flowengine-checkpoint/2\n")
    assert "\noutbox " not in v2.read_text()
    assert cli("audit", "verify", "--checkpoint", str(v2)).code == 0
    seventh = _index(cli.db, ids[0], 7)
    _sql(cli.db, "DELETE FROM events WHERE case_id = ? AND seq > 6", args=(ids[0],))
    r = cli("audit", "verify", "--checkpoint", str(v2), "--json")
    assert r.code == 1 and r.json()["checkpoint"]["findings"][0]["index"] == seventh


def test_a_version_1_checkpoint_is_still_read(signed: tuple[Cli, list[str], Path, Path]) -> None:
    """Files written before the leaf fingerprints: checked by root and heads as before."""
    cli, ids, cp, pub = signed
    from flowengine.audit.checkpoint import parse

    old = parse(cp.read_text(), str(cp))
    old.fingerprints, old.key, old.signature = None, "none", "none"
    v1 = cli.folder / "v1.txt"
    v1.write_text(old.text())
    assert v1.read_text().startswith("flowengine-checkpoint/1\n")
    assert cli("audit", "verify", "--checkpoint", str(v1)).code == 0
    _sql(cli.db, "DELETE FROM events WHERE case_id = ? AND seq > 6", args=(ids[0],))
    r = cli("audit", "verify", "--checkpoint", str(v1), "--json")
    assert r.code == 1 and r.json()["checkpoint"]["findings"][0]["index"] == _index_after(
        ids[0], old.heads)


def _index_after(case_id: str, heads: list[tuple[str, int, int, str]]) -> int:
    """The index of the case's seventh event: its last (8th) at the checkpoint, less one."""
    return next(i for c, _, i, _ in heads if c == case_id) - 1


def build_interleaved(url: str) -> list[str]:
    """Two cases whose events are written in turns (A1 B1 A2 B2 …)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from flowengine import Actor, Engine
    from flowengine.store.sql import SqlStore
    from tests.support.tamper import CLERK, STEPS

    from .conftest import PROCESSES

    store = SqlStore(url)
    engine = Engine(store=store, processes=[PROCESSES])
    t = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    ids = [engine.start("standard_case", {"petitioner": who, "subject": "噪音"}, actor=CLERK,
                        at=t).id for who in ("甲", "乙")]
    for i, (trigger, data, role) in enumerate(STEPS[:4]):
        for case_id in ids:
            engine.fire(case_id, trigger, data, actor=Actor("王芳", role),
                        at=t + timedelta(days=i + 1))
    store.close()
    return ids
