"""Signed checkpoints of the transparency log (log.py): take one, check the store against
one, prove one event's inclusion under one.

A checkpoint says "the log had `size` entries whose Merkle root was `root` at `time`",
signed with Ed25519 (`cryptography`). An auditor files it or sends it to the supervising
authority; later, `audit verify --checkpoint` recomputes the root of the first `size`
entries of the current log: equal roots prove the log only grew since. When they differ,
the leaf fingerprints and case heads the checkpoint carries and the log's own shape (gaps,
a case's events out of order) name the first missing or changed index of each case. The
text format is in checkpoint_format.py and docs/audit.md.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..records.events import canonical
from ..store.base import AuditReads, EventPlace, StoredOutboxEntry
from ..store.codec import instant_from_db
from .checkpoint_format import (
    FP,
    ROW_HASH,
    Checkpoint,
    CheckpointError,
    Head,
    LogDiverged,
    LogUnreadable,
    OutboxRows,
    parse,
)
from .log import Leaf, leaves, log_of, sequence
from .merkle import inclusion_proof, root_of


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def take(store: Any, key: Ed25519PrivateKey | None) -> Checkpoint:
    """Sequence the new events, then the checkpoint of the whole log (signed with `key`)."""
    size = sequence(store)
    heads: dict[str, Head] = {}
    fingerprints = bytearray()

    def hashes() -> Any:
        for leaf in leaves(store, size):
            if isinstance(leaf, str):
                raise LogUnreadable(f"cannot take a checkpoint: {leaf}")
            heads[leaf.case_id] = (leaf.case_id, leaf.seq, leaf.index, leaf.hash)
            h = leaf.leaf_hash()
            fingerprints.extend(h[:FP])
            yield h

    count, root = root_of(hashes())
    if count != size:
        raise CheckpointError(f"cannot take a checkpoint: the log has {count} readable "
                              f"entries below index {size}")
    cp = Checkpoint(size, root.hex(), database_time(store), sorted(heads.values()),
                    fingerprints=bytes(fingerprints),
                    outbox=outbox_rows(store, {c: s for c, s, _, _ in heads.values()}))
    if key is not None:
        cp.key = key_id(key.public_key())
        cp.signature = base64.b64encode(key.sign(cp.signed_text().encode())).decode()
    return cp


def database_time(store: Any) -> str:
    """The database's clock (the engine reads none of its own)."""
    when = log_of(store).database_time()
    return when.astimezone(UTC).isoformat(timespec="microseconds")

def check_signature(cp: Checkpoint, public: Ed25519PublicKey, where: str) -> None:
    """Refuse a checkpoint not signed by `public`."""
    if cp.key != key_id(public):
        raise CheckpointError(f"{where}: signed with another key ({cp.key[:16]}…), not the "
                              f"given public key ({key_id(public)[:16]}…)")
    try:
        public.verify(base64.b64decode(cp.signature, validate=True), cp.signed_text().encode())
    except (InvalidSignature, ValueError):
        raise CheckpointError(f"{where}: the signature does not hold: the checkpoint was "
                              "changed or not signed by this key") from None


@dataclass(frozen=True)
class Finding:
    """Where the current log stops being an extension of the checkpoint."""

    index: int
    case_id: str | None
    why: str

    def __str__(self) -> str:
        case = f"case {self.case_id}: " if self.case_id else ""
        return f"log index {self.index}: {case}{self.why}"

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "case": self.case_id, "why": self.why}


def row_hash(row: StoredOutboxEntry) -> str:
    """SHA-256 of the parts of an outbox row no delivery changes, `<id> LF <channel> LF
    <created_at> LF <payload>`."""
    try:
        when = instant_from_db(row.created_at)
        created = when.isoformat(timespec="microseconds") if when is not None else "-"
    except (TypeError, ValueError, AttributeError):
        created = f"unreadable {row.created_at!r}"
    payload = row.payload if isinstance(row.payload, str) else canonical(row.payload)
    text = f"{row.id}\n{row.channel}\n{created}\n{payload}"
    return hashlib.sha256(text.encode()).hexdigest()


def outbox_rows(store: Any, heads: dict[str, int]) -> OutboxRows:
    """What a checkpoint keeps of the outbox rows of the events up to each case's head
    (`heads`: case -> seq; rows of later events, appended while it is taken, are not
    covered): per case and event, how many rows and the first `ROW_HASH` hex digits of
    SHA-256 over their sorted `row_hash`es, one per line."""
    rows: dict[tuple[str, int], list[str]] = {}
    if isinstance(store, AuditReads):
        for row in store.outbox_stream():
            case, seq = row.case_id, row.seq
            if type(case) is str and type(seq) is int and seq <= heads.get(case, 0):
                rows.setdefault((case, seq), []).append(row_hash(row))
    out: OutboxRows = {}
    for (case, seq), hashes in sorted(rows.items()):
        digest = hashlib.sha256("".join(f"{h}\n" for h in sorted(hashes)).encode())
        out.setdefault(case, []).append((seq, len(hashes), digest.hexdigest()[:ROW_HASH]))
    return out


def _outbox_findings(store: Any, cp: Checkpoint, at: dict[int, Leaf]) -> list[Finding]:
    """Each case whose outbox rows of checkpointed events are not those the checkpoint
    covers, named at the first event whose rows differ (a notice deleted, moved to another
    address, or added), at that event's log index."""
    if cp.outbox is None:
        return []
    heads = {c: (s, i) for c, s, i, _ in cp.heads}
    now = outbox_rows(store, {c: s for c, (s, _) in heads.items()})
    found = []
    for case in sorted(set(cp.outbox) | set(now)):
        then, current = cp.outbox.get(case, []), now.get(case, [])
        if then == current:
            continue
        was = {s: (n, h) for s, n, h in then}
        is_ = {s: (n, h) for s, n, h in current}
        seq = min(s for s in set(was) | set(is_) if was.get(s) != is_.get(s))
        index = next((i for i, leaf in at.items() if leaf.case_id == case and leaf.seq == seq),
                     heads.get(case, (0, 0))[1])
        found.append(Finding(index, case, f"event {seq}: its outbox rows are not those the "
                             f"checkpoint covers ({was.get(seq, (0, ''))[0]} then, "
                             f"{is_.get(seq, (0, ''))[0]} now): a row was deleted, added or "
                             "rewritten since (a notice never sent, or sent elsewhere)"))
    return found


def check(store: Any, cp: Checkpoint) -> list[Finding]:
    """[] when the first `cp.size` entries of the log have `cp.root` (and, from version 3,
    the outbox rows of the checkpointed events are those it covers); else the findings,
    first index first (read-only: the log is not sequenced here)."""
    found: list[Finding] = []
    at: dict[int, Leaf] = {}
    per_case: Counter[str] = Counter()
    last_seq: dict[str, int] = {}
    changed: dict[str, Finding] = {}  # each case's first entry unlike its fingerprint
    expected = 0

    def hashes() -> Any:
        nonlocal expected
        for leaf in leaves(store, cp.size):
            if isinstance(leaf, str):
                found.append(Finding(expected, None, leaf))
                continue
            if leaf.index > expected:
                found.append(Finding(expected, None, f"log entries {expected}–"
                                     f"{leaf.index - 1} are missing"))
            expected = leaf.index + 1
            if leaf.seq <= last_seq.get(leaf.case_id, 0):
                found.append(Finding(leaf.index, leaf.case_id, f"event {leaf.seq} comes after "
                                     f"event {last_seq[leaf.case_id]} in the log "
                                     "(entries reordered)"))
            last_seq[leaf.case_id] = leaf.seq
            per_case[leaf.case_id] += 1
            at[leaf.index] = leaf
            h = leaf.leaf_hash()
            fp = cp.fingerprint(leaf.index)
            if fp is not None and h[:FP] != fp and leaf.case_id not in changed:
                changed[leaf.case_id] = Finding(leaf.index, leaf.case_id, _CHANGED.format(
                    seq=leaf.seq))
            yield h

    count, root = root_of(hashes())
    outbox = _outbox_findings(store, cp, at)
    if count == cp.size and root.hex() == cp.root and not found:
        return outbox
    found += outbox
    if expected < cp.size:
        found.append(Finding(expected, None, f"log entries {expected}–{cp.size - 1} are "
                             f"missing (the log has {count} of the checkpoint's {cp.size})"))
    found += changed.values()
    found += _heads(cp, at, per_case)
    _attribute(found, cp, per_case)
    if len(found) == len(outbox):
        found.append(Finding(0, None, "the log's first entries do not have the checkpoint's "
                             "root: an entry (e.g. a recorded time) was changed"))
    return sorted(found, key=lambda f: (f.index, f.case_id is None))


_CHANGED = ("event {seq} is not the entry the checkpoint holds at this index (its leaf "
            "fingerprint differs): the case's history, its recorded time or the log's order "
            "was changed here first")


def _heads(cp: Checkpoint, at: dict[int, Leaf], per_case: Counter[str]) -> list[Finding]:
    out = []
    for case_id, seq, index, hash_ in cp.heads:
        leaf = at.get(index)
        if leaf is None:
            continue  # a gap: reported, and attributed below
        if (leaf.case_id, leaf.seq, leaf.hash) != (case_id, seq, hash_):
            out.append(Finding(index, case_id, f"event {seq} (the case's last at the "
                               "checkpoint) is not what was checkpointed: the history was "
                               "changed at or before it"))
        elif per_case[case_id] > seq:  # named where the first entry too many stands
            extra = min((i for i, x in at.items() if x.case_id == case_id and i > index),
                        default=index)
            out.append(Finding(extra, case_id, f"the log holds {per_case[case_id]} entries "
                               f"of the case below the checkpoint's size, which covered "
                               f"{seq}: an entry was moved into the checkpointed part"))
        elif per_case[case_id] < seq:
            out.append(Finding(index, case_id, f"the log holds {per_case[case_id]} of the "
                               f"case's {seq} checkpointed events"))
    return out


def _attribute(found: list[Finding], cp: Checkpoint, per_case: Counter[str]) -> None:
    """Name the case of each gap: the cases that lost entries since the checkpoint."""
    lost = [(c, s - per_case[c]) for c, s, _, _ in cp.heads if per_case[c] < s]
    if not lost:
        return
    names = ", ".join(f"case {c} ({n} event(s) gone)" for c, n in lost)
    for i, f in enumerate(found):
        if f.case_id is None and "missing" in f.why:
            case = lost[0][0] if len(lost) == 1 else None
            found[i] = Finding(f.index, case, f"{f.why}; lost since the checkpoint: {names}")


@dataclass(frozen=True)
class Place:
    """Where an event `audit verify` names stands against a checkpoint: so a finding that
    the log alone cannot show (an edited definition text, an event forged with a valid
    hash and re-decided as impossible) still names its log index, and whether the
    checkpoint covers it (the change was made after the checkpoint was taken)."""

    case_id: str
    seq: int
    index: int | None  # None: not sequenced yet (no checkpoint taken since it was written)
    size: int  # the checkpoint's

    @property
    def covered(self) -> bool:
        return self.index is not None and self.index < self.size

    def __str__(self) -> str:
        if self.index is None:
            return "not in the log yet: written after the last checkpoint taken"
        where = "covered by the checkpoint" if self.covered else "after the checkpoint"
        return f"log index {self.index}, {where}"

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "log_index": self.index,
                "covered": self.covered}


def _place(cp: Checkpoint, row: EventPlace) -> Place | None:
    if type(row.seq) is not int:
        return None  # a garbage seq: its row is reported unreadable by verify
    index = row.log_index if type(row.log_index) is int else None
    return Place(str(row.case_id), row.seq, index, cp.size)


def places(store: Any, cp: Checkpoint, events: Iterable[tuple[str, int]]
           ) -> dict[tuple[str, int], Place]:
    """The place in the log of each (case, seq) named, where the store holds that event;
    {} on a store without `AuditReads`."""
    wanted = set(events)
    if not wanted or not isinstance(store, AuditReads):
        return {}
    out: dict[tuple[str, int], Place] = {}
    for row in store.log_places(sorted({case_id for case_id, _ in wanted})):
        place = _place(cp, row)
        if place is not None and (place.case_id, place.seq) in wanted:
            out[(place.case_id, place.seq)] = place
    return out


def pinned(store: Any, cp: Checkpoint, digests: Iterable[str]) -> dict[str, list[Place]]:
    """For each definition digest, the entries that pin cases to it (their `started`
    events) and their places in the log, by case."""
    wanted = sorted(set(digests))
    out: dict[str, list[Place]] = {digest: [] for digest in wanted}
    if not wanted or not isinstance(store, AuditReads):
        return out
    for row in store.pinning_events(wanted):
        place = _place(cp, row)
        if place is not None and row.digest in out:
            out[row.digest].append(place)
    return out


def prove(store: Any, cp: Checkpoint, case_id: str, seq: int) -> dict[str, Any]:
    """The inclusion proof of one event under the checkpoint (RFC 9162 §2.1.3)."""
    hashes: list[bytes] = []
    target: Leaf | None = None
    for leaf in leaves(store, cp.size):
        if isinstance(leaf, str):
            raise CheckpointError(f"cannot prove: {leaf}")
        if leaf.case_id == case_id and leaf.seq == seq:
            target = leaf
        hashes.append(leaf.leaf_hash())
    if target is None:
        raise CheckpointError(f"case {case_id}: event {seq} is not in the log's first "
                              f"{cp.size} entries (taken after the checkpoint, or missing)")
    if len(hashes) != cp.size or root_of(hashes)[1].hex() != cp.root:
        raise LogDiverged("the log no longer has the checkpoint's root")
    return {"size": cp.size, "root": cp.root, "index": target.index,
            "leaf": target.data().decode(), "leaf_hash": target.leaf_hash().hex(),
            "proof": [p.hex() for p in inclusion_proof(target.index, hashes)]}


__all__ = ["Checkpoint", "CheckpointError", "Finding", "Place", "check", "check_signature",
           "database_time", "key_id", "parse", "pinned", "places", "prove", "take"]
