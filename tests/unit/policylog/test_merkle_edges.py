"""Edge cases of the verifiers and builders that random testing hits rarely or never."""

from __future__ import annotations

from typing import Any

import pytest

from infomediary.policylog.errors import ProofError
from infomediary.policylog.merkle import (
    EMPTY_ROOT,
    ReferenceTree,
    consistency_proof,
    getter_from_mapping,
    inclusion_proof,
    leaf_hash,
    nodes_completed_by_append,
    root_hash,
    root_hash_nodes,
)
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion

SOME = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
LEAF = leaf_hash(b"data")


def _tree(n: int) -> tuple[dict[tuple[int, int], bytes], ReferenceTree]:
    store: dict[tuple[int, int], bytes] = {}
    ref = ReferenceTree()
    for i in range(n):
        for level, index, value in nodes_completed_by_append(
            i, ref.append_entry(bytes([i])), getter_from_mapping(store)
        ):
            store[(level, index)] = value
    return store, ref


# --- inclusion ---------------------------------------------------------------


def test_single_leaf_tree_root_is_the_leaf_and_proof_is_empty() -> None:
    verify_inclusion(LEAF, 0, 1, [], LEAF)
    with pytest.raises(ProofError):
        verify_inclusion(LEAF, 0, 1, [], SOME)
    with pytest.raises(ProofError):
        verify_inclusion(LEAF, 0, 1, [SOME], LEAF)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (8, 8)])
def test_index_outside_tree_is_rejected(index: int, size: int) -> None:
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(LEAF, index, size, [], EMPTY_ROOT)


def test_inclusion_rejects_wrong_hash_lengths() -> None:
    with pytest.raises(ProofError, match="leaf_hash"):
        verify_inclusion(b"", 0, 1, [], LEAF)
    with pytest.raises(ProofError, match="root"):
        verify_inclusion(LEAF, 0, 1, [], b"")
    with pytest.raises(ProofError, match=r"proof\[0\]"):
        verify_inclusion(LEAF, 0, 2, [b"short"], LEAF)


@pytest.mark.parametrize("bad", [-1, True, 1.0])
def test_inclusion_rejects_non_int_or_negative(bad: object) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(LEAF, bad, 2, [SOME], SOME)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_inclusion(LEAF, 0, bad, [SOME], SOME)  # type: ignore[arg-type]


def test_inclusion_wrong_length_messages() -> None:
    store, ref = _tree(5)
    proof = inclusion_proof(4, 5, getter_from_mapping(store))
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(ref.leaves[4], 4, 5, [*proof, SOME], ref.root())
    with pytest.raises(ProofError, match="shorter"):
        verify_inclusion(ref.leaves[4], 4, 5, proof[:-1], ref.root())


# What an auditor's client is told: which input is wrong, or which check failed (the whole message).
@pytest.mark.parametrize(
    ("leaf", "index", "size", "proof", "root", "message"),
    [
        (LEAF, -1, 4, [], SOME, "leaf_index must be a non-negative int, got -1"),
        (LEAF, 0, -4, [], SOME, "tree_size must be a non-negative int, got -4"),
        (b"short", 0, 4, [], SOME, "leaf_hash must be a 32-byte hash"),
        (LEAF, 0, 4, [], b"short", "root must be a 32-byte hash"),
        (LEAF, 0, 1, [SOME], LEAF, "inclusion proof is longer than the path for this index and size"),
        (LEAF, 0, 2, [], LEAF, "inclusion proof is shorter than the path for this index and size"),
        (LEAF, 0, 1, [], SOME, "inclusion proof does not lead to the expected root"),
    ],
)
def test_a_refused_inclusion_proof_says_exactly_why(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes, message: str
) -> None:
    with pytest.raises(ProofError) as refused:
        verify_inclusion(leaf, index, size, proof, root)
    assert str(refused.value) == message


# --- consistency -------------------------------------------------------------


def test_equal_sizes_need_empty_proof_and_equal_roots() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(5, 5, SOME, SOME, [])
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(5, 5, SOME, LEAF, [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(5, 5, SOME, SOME, [SOME])


def test_from_empty_tree() -> None:
    verify_consistency(0, 7, EMPTY_ROOT, SOME, [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(0, 7, EMPTY_ROOT, SOME, [SOME])
    with pytest.raises(ProofError, match="empty-tree root"):
        verify_consistency(0, 7, SOME, SOME, [])


def test_time_travel_and_empty_proof_are_rejected() -> None:
    with pytest.raises(ProofError, match="larger"):
        verify_consistency(2, 1, SOME, SOME, [])
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(1, 2, SOME, LEAF, [])


def test_consistency_rejects_bad_hash_lengths() -> None:
    with pytest.raises(ProofError, match="first_root"):
        verify_consistency(1, 2, b"x", SOME, [SOME])
    with pytest.raises(ProofError, match="second_root"):
        verify_consistency(1, 2, SOME, b"x", [SOME])
    with pytest.raises(ProofError, match=r"proof\[1\]"):
        verify_consistency(1, 3, SOME, SOME, [SOME, b""])


def test_consistency_power_of_two_first_size_omits_first_root() -> None:
    # For first = 4 the old root is a node of the new tree and is not sent:
    # sending it anyway must fail (the RFC proof has a fixed length).
    store, ref = _tree(8)
    proof = consistency_proof(4, 8, getter_from_mapping(store))
    assert proof == [store[(2, 1)]]
    verify_consistency(4, 8, ref.root(4), ref.root(8), proof)
    with pytest.raises(ProofError):
        verify_consistency(4, 8, ref.root(4), ref.root(8), [ref.root(4), *proof])


@pytest.mark.parametrize(
    ("first", "second", "first_root", "second_root", "proof", "message"),
    [
        (-1, 4, SOME, SOME, [SOME], "first must be a non-negative int, got -1"),
        (1, -4, SOME, SOME, [SOME], "second must be a non-negative int, got -4"),
        (1, 4, b"short", SOME, [SOME], "first_root must be a 32-byte hash"),
        (1, 4, SOME, b"short", [SOME], "second_root must be a 32-byte hash"),
        (1, 4, SOME, SOME, [b"short"], "proof[0] must be a 32-byte hash"),
        (5, 4, SOME, SOME, [SOME], "first (5) is larger than second (4)"),
        (4, 4, SOME, SOME, [SOME], "consistency proof between equal sizes must be empty"),
        (4, 4, SOME, LEAF, [], "roots differ for trees of equal size"),
        (0, 4, EMPTY_ROOT, SOME, [SOME], "consistency proof from the empty tree must be empty"),
        (0, 4, SOME, SOME, [], "first_root is not the empty-tree root"),
        (1, 2, SOME, SOME, [], "consistency proof is empty"),
        (1, 2, SOME, SOME, [SOME, SOME], "consistency proof is longer than expected for these sizes"),
        (1, 4, SOME, SOME, [SOME], "consistency proof is shorter than expected for these sizes"),
        (3, 4, LEAF, LEAF, [SOME, SOME, SOME], "consistency proof does not reproduce first_root"),
        (1, 2, SOME, SOME, [SOME], "consistency proof does not reproduce second_root"),
    ],
)
def test_a_refused_consistency_proof_says_exactly_why(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes], message: str
) -> None:
    with pytest.raises(ProofError) as refused:
        verify_consistency(first, second, first_root, second_root, proof)
    assert str(refused.value) == message


# --- builders ----------------------------------------------------------------


def test_builders_reject_out_of_range_arguments() -> None:
    store, _ = _tree(4)
    get = getter_from_mapping(store)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(4, 4, get)
    with pytest.raises(ValueError, match="must not exceed"):
        consistency_proof(5, 4, get)
    with pytest.raises(ValueError, match="non-negative"):
        inclusion_proof(-1, 4, get)
    assert consistency_proof(0, 4, get) == []
    assert consistency_proof(4, 4, get) == []


def test_missing_store_node_is_a_loud_key_error() -> None:
    with pytest.raises(KeyError, match=r"level=0, index=0"):
        nodes_completed_by_append(1, LEAF, getter_from_mapping({}))


def test_append_rejects_non_hash_leaf() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        nodes_completed_by_append(0, b"entry, not its hash", getter_from_mapping({}))


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (lambda get: nodes_completed_by_append(-1, LEAF, get), "leaf_index"),
        (lambda get: inclusion_proof(-1, 4, get), "leaf_index"),
        (lambda get: inclusion_proof(0, -4, get), "tree_size"),
        (lambda get: root_hash(-4, get), "tree_size"),
        (lambda get: root_hash_nodes(-4), "tree_size"),
        (lambda get: consistency_proof(-1, 4, get), "first"),
        (lambda get: consistency_proof(0, -4, get), "second"),
        (lambda get: root_hash_nodes(True), "tree_size"),  # a bool is not a size
        (lambda get: inclusion_proof(1.0, 4, get), "leaf_index"),
    ],
)
def test_a_negative_or_non_int_index_or_size_is_named_in_the_error(build: Any, named: str) -> None:
    with pytest.raises(ValueError, match=rf"^{named} must be a non-negative int, got (-[14]|True|1\.0)$"):
        build(getter_from_mapping({}))


# --- the reference tree (the oracle; the auditor's verifier recomputes roots with it) ---------------------


def test_the_reference_tree_proves_against_its_whole_size_unless_told_and_only_what_it_holds() -> None:
    _, ref = _tree(5)
    assert ref.inclusion_proof(4) == ref.inclusion_proof(4, 5)
    assert ref.inclusion_proof(1, 2) == [ref.leaves[0]]
    assert ref.consistency_proof(3) == ref.consistency_proof(3, 5) != []
    assert ref.consistency_proof(0) == ref.consistency_proof(0, 3) == []  # the empty tree needs no proof
    for too_far in (
        lambda: ref.inclusion_proof(2, 2),  # leaf 2 is not in the tree of 2
        lambda: ref.inclusion_proof(5),
        lambda: ref.inclusion_proof(0, 6),  # a size the tree has not reached
        lambda: ref.consistency_proof(4, 3),
        lambda: ref.consistency_proof(0, 6),
    ):
        with pytest.raises(ValueError, match="out of range"):
            too_far()


def test_the_reference_tree_has_no_root_for_a_size_it_has_not_reached() -> None:
    _, ref = _tree(5)
    assert ref.root(0) == EMPTY_ROOT
    with pytest.raises(ValueError, match=r"^tree_size 6 out of range$"):
        ref.root(6)
