"""Property tests: perfect-node builders vs the RFC 6962 reference tree vs the RFC 9162 verifiers.

One tree of ``N`` leaves is built once (both as a perfect-node dict store and as
a ``ReferenceTree``); hypothesis then draws indexes and sizes inside it, which
keeps the run short while still covering every shape of right edge.
"""

from __future__ import annotations

import functools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infomediary.policylog.errors import ProofError
from infomediary.policylog.merkle import (
    ReferenceTree,
    consistency_proof,
    consistency_proof_nodes,
    getter_from_mapping,
    inclusion_proof,
    inclusion_proof_nodes,
    nodes_completed_by_append,
    root_hash,
    root_hash_nodes,
)
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion

N = 3000
# Sizes checked exhaustively against the O(n) reference root; beyond this the
# sum over sizes gets slow, so larger sizes are sampled by hypothesis instead.
EXHAUSTIVE_ROOT_SIZES = 1100

Store = dict[tuple[int, int], bytes]


@functools.cache
def _trees() -> tuple[Store, ReferenceTree]:
    store: Store = {}
    get = getter_from_mapping(store)  # raises if append ever reads a node that is not there yet
    ref = ReferenceTree()
    for i in range(N):
        lh = ref.append_entry(f"entry-{i}".encode())
        for level, index, value in nodes_completed_by_append(i, lh, get):
            assert (level, index) not in store
            store[(level, index)] = value
    return store, ref


def _store() -> Store:
    return _trees()[0]


def _ref() -> ReferenceTree:
    return _trees()[1]


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=N))
    return draw(st.integers(min_value=0, max_value=size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    second = draw(st.integers(min_value=1, max_value=N))
    return draw(st.integers(min_value=1, max_value=second)), second


def _only(nodes: list[tuple[int, int]]) -> Store:
    """The subset of the store a batch query for ``nodes`` would return."""
    store = _store()
    return {node: store[node] for node in nodes}


def test_store_has_exactly_the_perfect_nodes() -> None:
    store = _store()
    expected = sum(N >> level for level in range(N.bit_length()))
    assert len(store) == expected
    assert all(((index + 1) << level) <= N for level, index in store)


def test_root_hash_matches_reference_for_every_small_size() -> None:
    store, ref = _trees()
    get = getter_from_mapping(store)
    for size in range(EXHAUSTIVE_ROOT_SIZES + 1):
        assert root_hash(size, get) == ref.root(size), size


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=N))
def test_root_hash_matches_reference(size: int) -> None:
    # Computed from only the listed nodes, so root_hash_nodes cannot under-report.
    got = root_hash(size, getter_from_mapping(_only(root_hash_nodes(size))))
    assert got == _ref().root(size)
    assert len(root_hash_nodes(size)) == bin(size).count("1")


@settings(max_examples=200, deadline=None)
@given(index_and_size())
def test_inclusion_proof_matches_reference_and_verifies(case: tuple[int, int]) -> None:
    index, size = case
    ref = _ref()
    nodes = inclusion_proof_nodes(index, size)
    proof = inclusion_proof(index, size, getter_from_mapping(_only(nodes)))
    assert proof == ref.inclusion_proof(index, size)
    verify_inclusion(ref.leaves[index], index, size, proof, ref.root(size))
    # O(log n): proof length <= ceil(log2 n); reads <= 2 * that (one ephemeral right-edge sibling).
    depth = math.ceil(math.log2(size)) if size > 1 else 0
    assert len(proof) <= depth
    assert len(nodes) <= 2 * depth


@settings(max_examples=200, deadline=None)
@given(two_sizes())
def test_consistency_proof_matches_reference_and_verifies(case: tuple[int, int]) -> None:
    first, second = case
    ref = _ref()
    nodes = consistency_proof_nodes(first, second)
    proof = consistency_proof(first, second, getter_from_mapping(_only(nodes)))
    assert proof == ref.consistency_proof(first, second)
    verify_consistency(first, second, ref.root(first), ref.root(second), proof)
    depth = math.ceil(math.log2(second)) if second > 1 else 0
    assert len(proof) <= depth + 1


@settings(max_examples=150, deadline=None)
@given(index_and_size(), st.data())
def test_tampered_inclusion_proofs_are_rejected(case: tuple[int, int], data: st.DataObject) -> None:
    index, size = case
    ref = _ref()
    get = getter_from_mapping(_store())
    proof = inclusion_proof(index, size, get)
    leaf, root = ref.leaves[index], ref.root(size)

    # Wrong leaf.
    other_leaf = data.draw(st.integers(0, N - 1).filter(lambda j: j != index), label="other leaf")
    with pytest.raises(ProofError):
        verify_inclusion(ref.leaves[other_leaf], index, size, proof, root)
    # Wrong index (still inside the tree).
    if size > 1:
        other_index = data.draw(st.integers(0, size - 1).filter(lambda j: j != index), label="other index")
        with pytest.raises(ProofError):
            verify_inclusion(leaf, other_index, size, proof, root)
    # Wrong root: that of another size.
    other_size = data.draw(st.integers(index + 1, N).filter(lambda s: s != size), label="other size")
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, ref.root(other_size))
    # Extra element.
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, [*proof, root], root)
    if proof:
        # Truncated.
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, proof[:-1], root)
        # One bit flipped in one element.
        i = data.draw(st.integers(0, len(proof) - 1), label="flipped element")
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bad, root)
    if len(proof) > 1:
        # Two elements swapped.
        i = data.draw(st.integers(0, len(proof) - 2), label="swapped pair")
        bad = list(proof)
        bad[i], bad[i + 1] = bad[i + 1], bad[i]
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bad, root)


@settings(max_examples=150, deadline=None)
@given(two_sizes().filter(lambda c: c[0] < c[1]), st.data())
def test_tampered_consistency_proofs_are_rejected(case: tuple[int, int], data: st.DataObject) -> None:
    first, second = case
    ref = _ref()
    proof = consistency_proof(first, second, getter_from_mapping(_store()))
    r1, r2 = ref.root(first), ref.root(second)
    assert proof  # 0 < first < second always needs a proof

    with pytest.raises(ProofError):
        verify_consistency(first, second, r2, r1, proof)  # swapped roots
    with pytest.raises(ProofError):
        verify_consistency(first, second, r1, r2, [])
    with pytest.raises(ProofError):
        verify_consistency(first, second, r1, r2, proof[:-1])
    with pytest.raises(ProofError):
        verify_consistency(first, second, r1, r2, [*proof, r2])
    other = data.draw(st.integers(1, N).filter(lambda s: s not in (first, second)), label="other size")
    with pytest.raises(ProofError):
        verify_consistency(first, second, ref.root(other), r2, proof)
    with pytest.raises(ProofError):
        verify_consistency(first, second, r1, ref.root(other), proof)
    i = data.draw(st.integers(0, len(proof) - 1), label="flipped element")
    bad = list(proof)
    bad[i] = bytes([bad[i][0] ^ 0x10]) + bad[i][1:]
    with pytest.raises(ProofError):
        verify_consistency(first, second, r1, r2, bad)
    if len(proof) > 1:
        i = data.draw(st.integers(0, len(proof) - 2), label="swapped pair")
        bad = list(proof)
        bad[i], bad[i + 1] = bad[i + 1], bad[i]
        with pytest.raises(ProofError):
            verify_consistency(first, second, r1, r2, bad)
