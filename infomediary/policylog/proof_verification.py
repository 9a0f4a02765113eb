"""RFC 9162 proof verifiers, kept apart from the builders in ``merkle`` so that a bug in the builders
cannot hide in code the verifiers share: the two sides share only ``leaf_hash``/``node_hash``.

``verify_inclusion`` and ``verify_consistency`` implement the bit-shifting algorithms of RFC 9162
sections 2.1.3.2 and 2.1.4.2, independently of the recursive plans the builders unroll.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from infomediary.policylog.errors import ProofError
from infomediary.policylog.merkle import HASH_SIZE, node_hash

__all__ = ["verify_consistency", "verify_inclusion"]


def _check_hash(what: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be a {HASH_SIZE}-byte hash")


def _check_proof_elements(proof: Sequence[bytes]) -> None:
    for i, element in enumerate(proof):
        _check_hash(f"proof[{i}]", element)


def _verify_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{name} must be a non-negative int, got {value!r}")


def verify_inclusion(
    leaf_hash: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``leaf_index`` of the tree of ``tree_size`` with ``root``.

    Raises ``ProofError`` on any mismatch or malformed input; returns None on success.
    """
    _verify_int("leaf_index", leaf_index)
    _verify_int("tree_size", tree_size)
    _check_hash("leaf_hash", leaf_hash)
    _check_hash("root", root)
    _check_proof_elements(proof)
    # Step 1: the leaf must be inside the tree (this also rejects tree_size == 0).
    if leaf_index >= tree_size:
        raise ProofError(f"leaf_index {leaf_index} is not in a tree of size {tree_size}")
    # Step 2-3.
    fn, sn = leaf_index, tree_size - 1
    r = bytes(leaf_hash)
    # Step 4.
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path for this index and size")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                # fn is the last node of its level with no right sibling:
                # climb until it becomes a right child (or reaches the root).
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5.
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path for this index and size")
    if not hmac.compare_digest(r, root):
        raise ProofError("inclusion proof does not lead to the expected root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of size ``second`` with ``second_root`` extends ``first``/``first_root``.

    Edge cases (RFC 9162 leaves them to the caller): ``first == second``
    requires an empty proof and equal roots; ``first == 0`` requires an empty
    proof and ``first_root == EMPTY_ROOT`` (the empty tree is a prefix of every
    tree, but a client claiming a non-empty root for it is confused or lying).
    Raises ``ProofError``; returns None on success.
    """
    _verify_int("first", first)
    _verify_int("second", second)
    _check_hash("first_root", first_root)
    _check_hash("second_root", second_root)
    _check_proof_elements(proof)
    if first > second:
        raise ProofError(f"first ({first}) is larger than second ({second})")
    if first == second:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if not hmac.compare_digest(first_root, second_root):
            raise ProofError("roots differ for trees of equal size")
        return
    if first == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        if not hmac.compare_digest(first_root, hashlib.sha256(b"").digest()):
            raise ProofError("first_root is not the empty-tree root")
        return
    # Step 1.
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    # Step 2: when first is a power of two, its root is itself a node of the
    # second tree and is not sent, so the verifier supplies it.
    if first & (first - 1) == 0:
        path.insert(0, bytes(first_root))
    # Step 3-4.
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than expected for these sizes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof is shorter than expected for these sizes")
    if not hmac.compare_digest(fr, first_root):
        raise ProofError("consistency proof does not reproduce first_root")
    if not hmac.compare_digest(sr, second_root):
        raise ProofError("consistency proof does not reproduce second_root")
