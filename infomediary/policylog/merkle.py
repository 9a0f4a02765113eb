"""RFC 6962 / RFC 9162 Merkle tree hashing, storage-friendly proofs, and a reference tree.

Storage model
-------------
The app stores only hashes of *perfect* (complete) subtrees, addressed as
``(level, index)``: level 0 holds the leaf hashes and node ``(l, i)`` covers the
leaves ``[i * 2**l, (i + 1) * 2**l)``.  A perfect node never changes once
written, so the table is append-only, which is what a tamper-evident log wants.

Every subtree that the RFC's recursive definitions mention is either perfect or
ends at the right edge of the tree (``[start, tree_size)``).  A right-edge
subtree is "ephemeral": it changes as leaves are appended, so it is never
stored; instead it is folded from at most ``log2(n)`` perfect nodes on demand.

Builders (``root_hash``, ``inclusion_proof``, ``consistency_proof``) read nodes
through a ``get_node(level, index)`` callable; the ``*_nodes`` helpers list the
nodes up front so the app can fetch them with one query and then pass
``getter_from_mapping(rows)``.

The verifiers live apart in ``infomediary.policylog.proof_verification`` and share no code
with the builders here except ``leaf_hash``/``node_hash``.
``ReferenceTree`` is a third, independent implementation that follows the
recursive definitions of RFC 6962 section 2.1 literally; tests and the benchmark
compare everything against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "GetNode",
    "NodeId",
    "ReferenceTree",
    "consistency_proof",
    "consistency_proof_nodes",
    "getter_from_mapping",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "leaf_hash",
    "node_hash",
    "nodes_completed_by_append",
    "root_hash",
    "root_hash_nodes",
]

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

NodeId = tuple[int, int]
"""``(level, index)`` address of a perfect subtree."""

GetNode = Callable[[int, int], bytes]
"""Returns the stored hash of the perfect node ``(level, index)``."""

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() -- the root of the empty tree (RFC 6962 section 2.1)."""

# Domain-separation prefixes from RFC 6962 section 2.1: they stop a leaf from
# being passed off as an interior node (second-preimage attack).
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || MTH(left subtree) || MTH(right subtree))."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def getter_from_mapping(nodes: Mapping[NodeId, bytes]) -> GetNode:
    """Adapt a ``{(level, index): hash}`` mapping (e.g. one batch query) to ``GetNode``.

    A missing node raises ``KeyError`` naming the node, which in the app means
    the store is incomplete -- a bug, not a client error.
    """

    def get_node(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise KeyError(f"perfect node (level={level}, index={index}) not in store") from None

    return get_node


# ---------------------------------------------------------------------------
# Builders (perfect-node store)
# ---------------------------------------------------------------------------


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")


def _split_point(size: int) -> int:
    """k = the largest power of two strictly less than ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def _range_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect nodes, left to right, whose fold is MTH(D[start:end]).

    Only valid for the ranges the RFC recursion produces: ``start`` is a
    multiple of the largest power of two <= ``end - start``.  Then the binary
    expansion of the size, high bits first, is exactly the RFC's split of the
    range into a perfect left part and a (recursively split) right remainder.
    """
    size = end - start
    nodes: list[NodeId] = []
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            # Alignment holds by the precondition; assert it so a misuse is loud.
            assert pos % (1 << level) == 0, (start, end)
            nodes.append((level, pos >> level))
            pos += 1 << level
    return nodes


def _fold(nodes: Sequence[NodeId], get_node: GetNode) -> bytes:
    """Combine right-to-left: the left part of every RFC split is the bigger, perfect one."""
    acc = get_node(*nodes[-1])
    for level, index in reversed(nodes[:-1]):
        acc = node_hash(get_node(level, index), acc)
    return acc


def nodes_completed_by_append(
    leaf_index: int, leaf_hash: bytes, get_node: GetNode
) -> list[tuple[int, int, bytes]]:
    """The perfect nodes that become complete when leaf ``leaf_index`` is appended.

    Returns ``(level, index, hash)`` triples, starting with the leaf itself at
    level 0.  A node at level ``l + 1`` completes exactly when its right child
    does, i.e. while the running index is odd, so the list has
    ``1 + trailing_ones(leaf_index)`` entries and reads one stored left sibling
    per level (never the nodes created in this same call).
    """
    _check_size("leaf_index", leaf_index)
    if len(leaf_hash) != HASH_SIZE:
        raise ValueError(f"leaf_hash must be {HASH_SIZE} bytes")
    level, index, acc = 0, leaf_index, leaf_hash
    completed = [(0, leaf_index, leaf_hash)]
    while index & 1:
        acc = node_hash(get_node(level, index - 1), acc)
        level += 1
        index >>= 1
        completed.append((level, index, acc))
    return completed


def root_hash_nodes(tree_size: int) -> list[NodeId]:
    """Perfect nodes needed by ``root_hash(tree_size, ...)`` (popcount(tree_size) of them)."""
    _check_size("tree_size", tree_size)
    return _range_nodes(0, tree_size)


def root_hash(tree_size: int, get_node: GetNode) -> bytes:
    """MTH(D[0:tree_size]) from at most log2(n) + 1 perfect nodes."""
    nodes = root_hash_nodes(tree_size)
    return _fold(nodes, get_node) if nodes else EMPTY_ROOT


def _inclusion_plan(leaf_index: int, tree_size: int) -> list[list[NodeId]]:
    """PATH(m, D[0:n]) of RFC 9162 section 2.1.3.1 as node lists, one per proof element.

    The recursion is unrolled top-down; PATH appends the sibling *after* the
    sub-path, so the collected siblings are reversed at the end (leaf first).
    Only the first time the path turns left can the right sibling be a
    right-edge subtree; after that every range is perfect, so the proof needs
    at most ~2*log2(n) node reads.
    """
    _check_size("leaf_index", leaf_index)
    _check_size("tree_size", tree_size)
    if leaf_index >= tree_size:
        raise ValueError(f"leaf_index {leaf_index} is not in a tree of size {tree_size}")
    lo, hi = 0, tree_size
    siblings: list[list[NodeId]] = []
    while hi - lo > 1:
        k = _split_point(hi - lo)
        if leaf_index < lo + k:
            siblings.append(_range_nodes(lo + k, hi))
            hi = lo + k
        else:
            siblings.append(_range_nodes(lo, lo + k))
            lo += k
    siblings.reverse()
    return siblings


def _consistency_plan(first: int, second: int) -> list[list[NodeId]]:
    """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) of RFC 9162 section 2.1.4.1.

    Unrolled the same way as the inclusion plan: elements appended after the
    recursive call are collected top-down and reversed; the single element a
    SUBPROOF with ``b == false`` emits when ``m == n`` comes first.
    """
    _check_size("first", first)
    _check_size("second", second)
    if first > second:
        raise ValueError(f"first ({first}) must not exceed second ({second})")
    if first == 0 or first == second:
        # The empty tree is a prefix of every tree; equal sizes need no proof.
        return []
    lo, hi = 0, second
    from_root = True  # the RFC's flag b: is [lo, hi) still the whole first tree's ancestor chain?
    tail: list[list[NodeId]] = []
    while first - lo != hi - lo:
        k = _split_point(hi - lo)
        if first - lo <= k:
            tail.append(_range_nodes(lo + k, hi))
            hi = lo + k
        else:
            tail.append(_range_nodes(lo, lo + k))
            lo += k
            from_root = False
    tail.reverse()
    head = [] if from_root else [_range_nodes(lo, hi)]
    return head + tail


def _unique(plan: Iterable[list[NodeId]]) -> list[NodeId]:
    seen: dict[NodeId, None] = {}
    for nodes in plan:
        for node in nodes:
            seen.setdefault(node, None)
    return list(seen)


def inclusion_proof_nodes(leaf_index: int, tree_size: int) -> list[NodeId]:
    """Every perfect node ``inclusion_proof`` will read, without duplicates, for one batch fetch."""
    return _unique(_inclusion_plan(leaf_index, tree_size))


def consistency_proof_nodes(first: int, second: int) -> list[NodeId]:
    """Every perfect node ``consistency_proof`` will read, without duplicates, for one batch fetch."""
    return _unique(_consistency_plan(first, second))


def inclusion_proof(leaf_index: int, tree_size: int, get_node: GetNode) -> list[bytes]:
    """Audit path PATH(leaf_index, D[0:tree_size]), leaf-side element first."""
    return [_fold(nodes, get_node) for nodes in _inclusion_plan(leaf_index, tree_size)]


def consistency_proof(first: int, second: int, get_node: GetNode) -> list[bytes]:
    """Consistency proof PROOF(first, D[0:second]); empty when first is 0 or equals second."""
    return [_fold(nodes, get_node) for nodes in _consistency_plan(first, second)]


# ---------------------------------------------------------------------------
# Reference implementation (RFC 6962 section 2.1, literally)
# ---------------------------------------------------------------------------


class ReferenceTree:
    """In-memory list of leaf hashes with the RFC's recursive MTH / PATH / PROOF.

    O(n) per root or proof: it exists to be obviously right, not fast.  Tests
    and the benchmark use it as the independent oracle for the perfect-node
    builders above.  Recursion depth is only log2(n) because the split is
    always at a power of two.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.leaves: list[bytes] = list(leaf_hashes)

    def __len__(self) -> int:
        return len(self.leaves)

    def append_entry(self, entry: bytes) -> bytes:
        """Append ``entry`` as a new leaf and return its leaf hash."""
        h = leaf_hash(entry)
        self.leaves.append(h)
        return h

    def append_leaf_hash(self, h: bytes) -> None:
        self.leaves.append(h)

    @staticmethod
    def _k(n: int) -> int:
        # Largest power of two < n, computed naively on purpose (independent of _split_point).
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.leaves[lo]
        k = self._k(n)
        return node_hash(self._mth(lo, lo + k), self._mth(lo + k, hi))

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = self._k(n)
        if m < k:
            return [*self._path(m, lo, lo + k), self._mth(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self._mth(lo, lo + k)]

    def _subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self._mth(lo, hi)]
        k = self._k(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, b), self._mth(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self._mth(lo, lo + k)]

    def root(self, tree_size: int | None = None) -> bytes:
        n = len(self.leaves) if tree_size is None else tree_size
        if not 0 <= n <= len(self.leaves):
            raise ValueError(f"tree_size {n} out of range")
        return self._mth(0, n)

    def inclusion_proof(self, leaf_index: int, tree_size: int | None = None) -> list[bytes]:
        n = len(self.leaves) if tree_size is None else tree_size
        if not 0 <= leaf_index < n <= len(self.leaves):
            raise ValueError(f"leaf_index {leaf_index} / tree_size {n} out of range")
        return self._path(leaf_index, 0, n)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        n = len(self.leaves) if second is None else second
        if not 0 <= first <= n <= len(self.leaves):
            raise ValueError(f"sizes {first}, {n} out of range")
        if first == 0:
            return []
        return self._subproof(first, 0, n, True)
