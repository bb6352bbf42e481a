"""The text of a checkpoint file (docs/audit.md): the signed lines, the case heads, the
leaf fingerprints and the outbox rows it covers; writing it and reading it back, every
mistake named by file and line. Kept apart from checkpoint.py, which takes and checks
checkpoints against a store. Versions 1 (no fingerprints) and 2 (no outbox) are still read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..errors import IntegrityError

MAGIC = "flowengine-checkpoint/3"
MAGIC_V2 = "flowengine-checkpoint/2"  # without the outbox block; still read
MAGIC_V1 = "flowengine-checkpoint/1"  # without leaf fingerprints either; still read
Head = tuple[str, int, int, str]  # case id, seq, log index, hash
FP = 4  # bytes of each leaf hash kept as its fingerprint
FP_LINE = 256  # fingerprints per line
# case id -> (event seq, its outbox rows, their hash), by seq
OutboxRows = dict[str, list[tuple[int, int, str]]]
ROW_HASH = 32  # hex digits of SHA-256 kept per event's rows (128 bits: no grinding)


class CheckpointError(IntegrityError):
    """A checkpoint file that cannot be read, or whose signature does not hold (exit 1)."""


class LogDiverged(CheckpointError):
    """The store's log is no longer an append-only extension of a checkpoint."""


class LogUnreadable(CheckpointError):
    """A stored event the log needs cannot be read, so no checkpoint can be taken."""


@dataclass
class Checkpoint:
    size: int
    root: str
    time: str
    heads: list[Head] = field(default_factory=list)
    key: str = "none"  # SHA-256 of the raw Ed25519 public key, hex
    signature: str = "none"  # base64
    # the first FP bytes of every leaf hash, in log order (None in a version 1 file)
    fingerprints: bytes | None = None
    # the outbox rows of the checkpointed events, by case (None before version 3)
    outbox: OutboxRows | None = None

    def heads_text(self) -> str:
        return "".join(f"{c} {s} {i} {h}\n" for c, s, i, h in self.heads)

    def leaves_text(self) -> str:
        fps, step = self.fingerprints or b"", FP * FP_LINE
        return "".join(f"{start // FP} {fps[start:start + step].hex()}\n"
                       for start in range(0, len(fps), step))

    def outbox_text(self) -> str:
        return "".join(f"{case} {' '.join(f'{s}:{n}:{h}' for s, n, h in rows)}\n"
                       for case, rows in sorted((self.outbox or {}).items()) if rows)

    def signed_text(self) -> str:
        heads = hashlib.sha256(self.heads_text().encode()).hexdigest()
        if self.fingerprints is None:
            return (f"{MAGIC_V1}\nsize {self.size}\nroot {self.root}\ntime {self.time}\n"
                    f"heads {heads}\n")
        leaves = hashlib.sha256(self.leaves_text().encode()).hexdigest()
        magic = MAGIC if self.outbox is not None else MAGIC_V2
        text = (f"{magic}\nsize {self.size}\nroot {self.root}\ntime {self.time}\n"
                f"heads {heads}\nleaves {leaves}\n")
        if self.outbox is None:
            return text
        return f"{text}outbox {hashlib.sha256(self.outbox_text().encode()).hexdigest()}\n"

    def text(self) -> str:
        out = (f"{self.signed_text()}key {self.key}\nsig {self.signature}\n\n"
               f"{self.heads_text()}")
        if self.fingerprints is None:
            return out
        out = f"{out}\n{self.leaves_text()}"
        return out if self.outbox is None else f"{out}\n{self.outbox_text()}"

    def fingerprint(self, index: int) -> bytes | None:
        if self.fingerprints is None:
            return None
        return self.fingerprints[index * FP:(index + 1) * FP]


def parse(text: str, where: str) -> Checkpoint:
    """A checkpoint file's text (version 3; 2 without the outbox, 1 without fingerprints
    either); `CheckpointError` naming the file and line otherwise."""
    lines = text.split("\n")
    if not lines or lines[0] not in (MAGIC, MAGIC_V2, MAGIC_V1):
        raise CheckpointError(f"{where}: line 1: not a flowengine checkpoint (it starts "
                              f"with {MAGIC!r})")
    v2, v3 = lines[0] != MAGIC_V1, lines[0] == MAGIC
    names = (("size", "root", "time", "heads") + (("leaves",) if v2 else ())
             + (("outbox",) if v3 else ()) + ("key", "sig"))
    values: dict[str, str] = {}
    for n, name in enumerate(names, start=2):
        line = lines[n - 1] if n - 1 < len(lines) else ""
        found, _, value = line.partition(" ")
        if found != name or not value:
            raise CheckpointError(f"{where}: line {n}: expected '{name} …', found {line!r}")
        values[name] = value
    if not values["size"].isdigit():
        raise CheckpointError(f"{where}: line 2: the size {values['size']!r} is not a number")
    first = len(names) + 2  # the blank line after `sig`, then the heads
    heads, end = _heads_block(lines, first, where, stop_at_blank=v2)
    cp = Checkpoint(int(values["size"]), values["root"], values["time"], heads,
                    values["key"], values["sig"])
    if v2:
        cp.fingerprints, end = _leaves_block(lines, end + 1, cp.size, where, stop_at_blank=v3)
    if v3:
        cp.outbox = _outbox_block(lines, end + 1, where)
    signed = cp.signed_text().split("\n")
    if signed[4] != f"heads {values['heads']}":
        raise CheckpointError(f"{where}: line 5: the case heads below do not match their "
                              "digest (the file was edited)")
    if v2 and signed[5] != f"leaves {values['leaves']}":
        raise CheckpointError(f"{where}: line 6: the leaf fingerprints below do not match "
                              "their digest (the file was edited)")
    if v3 and signed[6] != f"outbox {values['outbox']}":
        raise CheckpointError(f"{where}: line 7: the outbox rows below do not match their "
                              "digest (the file was edited)")
    return cp


def _heads_block(lines: list[str], first: int, where: str,
                 stop_at_blank: bool) -> tuple[list[Head], int]:
    """The case heads from line `first` (0-based) on; and where they end."""
    heads: list[Head] = []
    n = first
    while n < len(lines):
        line = lines[n]
        if not line:
            if stop_at_blank:
                return heads, n
            n += 1
            continue
        parts = line.split(" ")
        if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
            raise CheckpointError(f"{where}: line {n + 1}: not a case head "
                                  f"'<case> <seq> <index> <hash>': {line!r}")
        heads.append((parts[0], int(parts[1]), int(parts[2]), parts[3]))
        n += 1
    return heads, n


def _leaves_block(lines: list[str], first: int, size: int, where: str,
                  stop_at_blank: bool) -> tuple[bytes, int]:
    out = bytearray()
    n = first
    for n in range(first, len(lines)):  # `n`: where the block ends
        line = lines[n]
        if not line:
            if stop_at_blank:
                break
            continue
        start, _, fps = line.partition(" ")
        try:
            chunk = bytes.fromhex(fps)
        except ValueError:
            chunk = b""
        if start != str(len(out) // FP) or not chunk or len(chunk) % FP:
            raise CheckpointError(f"{where}: line {n + 1}: not a line of leaf fingerprints "
                                  f"'<first index> <hex>' continuing at {len(out) // FP}")
        out += chunk
    if len(out) != size * FP:
        raise CheckpointError(f"{where}: the file has {len(out) // FP} leaf fingerprints "
                              f"for a log of {size} entries")
    return bytes(out), n


def _outbox_block(lines: list[str], first: int, where: str) -> OutboxRows:
    """`<case> <seq>:<rows>:<hash> …` lines, one per case with outbox rows."""
    out: OutboxRows = {}
    for n in range(first, len(lines)):
        line = lines[n]
        if not line:
            continue
        case, *groups = line.split(" ")
        parsed = [group.split(":") for group in groups]
        if case in out or not groups or not all(
                len(p) == 3 and p[0].isdigit() and p[1].isdigit() and len(p[2]) == ROW_HASH
                for p in parsed):
            raise CheckpointError(f"{where}: line {n + 1}: not a line of outbox rows "
                                  f"'<case> <seq>:<rows>:<hash> …': {line!r}")
        out[case] = [(int(s), int(k), h) for s, k, h in parsed]
    return out


__all__ = ["FP", "MAGIC", "MAGIC_V1", "MAGIC_V2", "ROW_HASH", "Checkpoint", "CheckpointError",
           "Head", "OutboxRows", "parse"]
