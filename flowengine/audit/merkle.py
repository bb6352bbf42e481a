"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0), §2.1: tree hash, inclusion
and consistency proofs, and their verification.

Why written here rather than taken from a library: no Merkle library is among the kept
packages, and the whole of it is the few functions below, checked against the RFC's own
algorithms and test vectors (tests/unit/audit/test_merkle.py). The verification functions
use only `hashlib`, so an auditor can copy them (docs/audit.md spells them out).

    leaf hash  = SHA-256(0x00 || data)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256("")
    MTH(D[n])  = NODE(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Iterable[bytes]) -> tuple[int, bytes]:
    """(size, MTH) of a stream of leaf hashes, in O(log n) memory: the frontier of perfect
    subtrees, folded right to left at the end (the same tree as the recursive definition)."""
    frontier: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
    size = 0
    for h in leaf_hashes:
        size += 1
        height = 0
        while frontier and frontier[-1][0] == height:
            h = node_hash(frontier.pop()[1], h)
            height += 1
        frontier.append((height, h))
    if not frontier:
        return 0, EMPTY_ROOT
    root = frontier[-1][1]
    for _, h in reversed(frontier[:-1]):
        root = node_hash(h, root)
    return size, root


def tree_hash(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (recursive, for proofs over an in-memory list)."""
    return root_of(hashes)[1]


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1 over the leaf hashes."""
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof(index, hashes[:k]) + [tree_hash(hashes[k:])]
    return inclusion_proof(index - k, hashes[k:]) + [tree_hash(hashes[:k])]


def _climb(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until the LSB of fn is set or fn is 0 (the RFC's inner loop; a
    no-op when fn is odd)."""
    while fn & 1 == 0 and fn != 0:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show leaf hash `leaf` at `index` of the tree of
    `size` leaves whose root is `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _climb(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_proof(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the tree of the first m leaves is a prefix."""
    n = len(hashes)
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from {m} to {n} leaves")
    return _subproof(m, hashes, True)


def _subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [tree_hash(hashes)]
    k = _split(n)
    if m <= k:
        return _subproof(m, hashes[:k], whole) + [tree_hash(hashes[k:])]
    return _subproof(m - k, hashes[k:], False) + [tree_hash(hashes[:k])]


def verify_consistency(m: int, n: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size n (root `new_root`) an append-only
    extension of the tree of size m (root `old_root`)?"""
    if not 0 < m <= n:
        return False
    if m == n:
        return not proof and old_root == new_root
    path = list(proof)
    if m & (m - 1) == 0:  # m a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:  # RFC 9162: right-shift while the LSB of fn is set
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _climb(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


__all__ = ["EMPTY_ROOT", "consistency_proof", "inclusion_proof", "leaf_hash", "node_hash",
           "root_of", "tree_hash", "verify_consistency", "verify_inclusion"]
