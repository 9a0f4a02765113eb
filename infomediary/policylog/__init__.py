"""Pure core of the tamper-evident policy log: Merkle tree, proofs, signed checkpoints, entries."""
