"""The RFC 9162 Merkle tree against the test vectors of Certificate Transparency (the
eight leaves of RFC 6962's reference test data, whose roots, inclusion and consistency
proofs every CT implementation checks), and a property: consistency holds for every
append-only continuation and fails for every change of the prefix."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flowengine.audit.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                     "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
HASHES = [leaf_hash(d) for d in LEAVES]
H = bytes.fromhex


def test_roots_of_the_reference_vectors() -> None:
    assert root_of([]) == (0, EMPTY_ROOT)
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for n, expected in enumerate(ROOTS, start=1):
        assert root_of(HASHES[:n]) == (n, H(expected))


def test_inclusion_proofs_of_the_reference_vectors() -> None:
    proof = inclusion_proof(0, HASHES)
    assert [p.hex() for p in proof] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]
    assert [p.hex() for p in inclusion_proof(5, HASHES)] == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]
    for n in range(1, 9):
        for i in range(n):
            p = inclusion_proof(i, HASHES[:n])
            assert verify_inclusion(i, n, HASHES[i], p, H(ROOTS[n - 1]))
            assert not verify_inclusion(i, n, HASHES[(i + 1) % 8], p, H(ROOTS[n - 1])) or n == 1 \
                and HASHES[(i + 1) % 8] == HASHES[i]


def test_consistency_proofs_of_the_reference_vectors() -> None:
    assert [p.hex() for p in consistency_proof(1, HASHES)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]
    assert [p.hex() for p in consistency_proof(6, HASHES)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]
    assert [p.hex() for p in consistency_proof(2, HASHES[:5])] == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]
    for m in range(1, 9):
        for n in range(m, 9):
            assert verify_consistency(m, n, H(ROOTS[m - 1]), H(ROOTS[n - 1]),
                                      consistency_proof(m, HASHES[:n]))


leaves = st.lists(st.binary(max_size=8), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(prefix=leaves, more=st.lists(st.binary(max_size=8), max_size=40), data=st.data())
def test_consistency_holds_for_appends_and_fails_for_any_change_of_the_prefix(
        prefix: list[bytes], more: list[bytes], data: st.DataObject) -> None:
    m = len(prefix)
    old = [leaf_hash(d) for d in prefix]
    new = old + [leaf_hash(d) for d in more]
    old_root, new_root = root_of(old)[1], root_of(new)[1]
    assert verify_consistency(m, len(new), old_root, new_root, consistency_proof(m, new))
    # a mutation of the prefix: change, delete or swap a leaf (the continuation as before)
    kind = data.draw(st.sampled_from(["change", "delete", "swap"]))
    i = data.draw(st.integers(0, m - 1))
    mutated = list(new)
    if kind == "change":
        mutated[i] = leaf_hash(prefix[i] + b"!")
    elif kind == "delete":
        del mutated[i]
    else:
        j = data.draw(st.integers(0, len(new) - 1))
        mutated[i], mutated[j] = mutated[j], mutated[i]
    # equal leaves swapped or shifted into each other's place change nothing; a log now
    # shorter than the checkpoint is refused before any proof
    assume(len(mutated) >= m and mutated[:m] != new[:m])
    bad_root = root_of(mutated)[1]
    assert root_of(mutated[:m])[1] != old_root
    assert not verify_consistency(m, len(mutated), old_root, bad_root,
                                  consistency_proof(m, mutated))
