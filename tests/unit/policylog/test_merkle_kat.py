"""Known-answer tests against the Certificate Transparency reference vectors.

Source of every vector below (copied verbatim, hex):
  * leaves, perfect-node hashes and roots for sizes 0..8:
    github.com/transparency-dev/merkle  testonly/constants.go
    (LeafInputs, NodeHashes, RootHashes, EmptyRootHash)
  * inclusion and consistency proofs:
    github.com/transparency-dev/merkle  proof/verify_test.go
    (inclusionProofs, consistencyProofs).  Note that file numbers leaves from
    1 (it verifies ``leaf - 1``); the tuples here are converted to 0-based.
These are the vectors that descend from the certificate-transparency C++
``merkle_tree_test`` and certificate-transparency-go ``merkletree`` tests.
"""

from __future__ import annotations

import pytest

from infomediary.policylog.errors import ProofError
from infomediary.policylog.merkle import (
    EMPTY_ROOT,
    ReferenceTree,
    consistency_proof,
    getter_from_mapping,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_completed_by_append,
    root_hash,
)
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion

h = bytes.fromhex

LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

# NodeHashes(): [level][index] of every perfect subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# RootHashes(): index = tree size, 0..8.
ROOT_HASHES = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# inclusionProofs: (0-based leaf index, tree size, proof).
INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        3,
        [
            h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        ],
    ),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# consistencyProofs: (size1, size2, proof).
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


@pytest.fixture(scope="module")
def store() -> dict[tuple[int, int], bytes]:
    """Perfect-node store built only through ``nodes_completed_by_append``."""
    nodes: dict[tuple[int, int], bytes] = {}
    get = getter_from_mapping(nodes)
    for i, entry in enumerate(LEAF_INPUTS):
        for level, index, value in nodes_completed_by_append(i, leaf_hash(entry), get):
            assert (level, index) not in nodes, "a perfect node must be written exactly once"
            nodes[(level, index)] = value
    return nodes


def test_empty_root() -> None:
    assert ROOT_HASHES[0] == EMPTY_ROOT
    assert root_hash(0, getter_from_mapping({})) == ROOT_HASHES[0]


def test_leaf_and_node_hash_primitives() -> None:
    assert leaf_hash(LEAF_INPUTS[0]) == NODE_HASHES[0][0]
    assert node_hash(NODE_HASHES[0][0], NODE_HASHES[0][1]) == NODE_HASHES[1][0]
    # Order matters: swapping children must change the hash.
    assert node_hash(NODE_HASHES[0][1], NODE_HASHES[0][0]) != NODE_HASHES[1][0]


def test_appends_write_exactly_the_reference_perfect_nodes(store: dict[tuple[int, int], bytes]) -> None:
    expected = {
        (level, index): value for level, row in enumerate(NODE_HASHES) for index, value in enumerate(row)
    }
    assert store == expected


@pytest.mark.parametrize("size", range(9))
def test_roots_for_every_size(store: dict[tuple[int, int], bytes], size: int) -> None:
    assert root_hash(size, getter_from_mapping(store)) == ROOT_HASHES[size]
    ref = ReferenceTree(leaf_hash(e) for e in LEAF_INPUTS)
    assert ref.root(size) == ROOT_HASHES[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proofs(
    store: dict[tuple[int, int], bytes], index: int, size: int, proof: list[bytes]
) -> None:
    assert inclusion_proof(index, size, getter_from_mapping(store)) == proof
    assert ReferenceTree(leaf_hash(e) for e in LEAF_INPUTS).inclusion_proof(index, size) == proof
    verify_inclusion(leaf_hash(LEAF_INPUTS[index]), index, size, proof, ROOT_HASHES[size])


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proofs(
    store: dict[tuple[int, int], bytes], first: int, second: int, proof: list[bytes]
) -> None:
    assert consistency_proof(first, second, getter_from_mapping(store)) == proof
    assert ReferenceTree(leaf_hash(e) for e in LEAF_INPUTS).consistency_proof(first, second) == proof
    verify_consistency(first, second, ROOT_HASHES[first], ROOT_HASHES[second], proof)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS[1:])
def test_inclusion_vectors_reject_wrong_root_and_leaf(index: int, size: int, proof: list[bytes]) -> None:
    good_leaf = leaf_hash(LEAF_INPUTS[index])
    with pytest.raises(ProofError):
        verify_inclusion(good_leaf, index, size, proof, ROOT_HASHES[size - 1])
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"not this leaf"), index, size, proof, ROOT_HASHES[size])


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_PROOFS[1:])
def test_consistency_vectors_reject_swapped_roots(first: int, second: int, proof: list[bytes]) -> None:
    with pytest.raises(ProofError):
        verify_consistency(first, second, ROOT_HASHES[second], ROOT_HASHES[first], proof)
