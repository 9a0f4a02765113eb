"""Benchmark of the policy-log Merkle core, in memory and (with ``--database-url``) on the database.

Run from the repo root:  python -m bench.log  [--quick] [--database-url sqlite|URL ...]

Measures, with a plain dict standing in for the perfect-node table:
  * appends per second via ``nodes_completed_by_append`` vs ``ReferenceTree``'s list append;
  * inclusion (and consistency) proof time, node reads and proof size at 10k / 100k / 1M
    leaves, vs ``ReferenceTree`` recomputation at 10k only (it is O(n) per proof).

The issue's goals for the DB-backed log are >= 5,000 appends/s in batched
transactions, an inclusion proof in <= 5 ms at 1M entries and <= 20 hashes per
proof; the in-memory figures here are the CPU floor under the database round
trip (which ``*_proof_nodes`` keeps to one batched query), and ``bench.log_db``
prints each database's figures as ratios to them.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
import time
from collections.abc import Callable

from infomediary.policylog.merkle import (
    ReferenceTree,
    consistency_proof,
    consistency_proof_nodes,
    getter_from_mapping,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    nodes_completed_by_append,
    root_hash,
)
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion

GOAL_PROOF_MS = 5.0
GOAL_PROOF_HASHES = 20
SEED = 6962  # fixed so runs are comparable


def _entry(i: int) -> bytes:
    return b'{"policy":"p","seq":%d}' % i


def build_store(n: int) -> tuple[dict[tuple[int, int], bytes], float]:
    """Append n leaves into a perfect-node dict; returns the store and appends/s."""
    store: dict[tuple[int, int], bytes] = {}
    get = getter_from_mapping(store)
    t0 = time.perf_counter()
    for i in range(n):
        for level, index, value in nodes_completed_by_append(i, leaf_hash(_entry(i)), get):
            store[(level, index)] = value
    return store, n / (time.perf_counter() - t0)


def reference_appends_per_second(n: int) -> float:
    ref = ReferenceTree()
    t0 = time.perf_counter()
    for i in range(n):
        ref.append_entry(_entry(i))
    return n / (time.perf_counter() - t0)


def _batched_inclusion(store: dict[tuple[int, int], bytes], index: int, size: int) -> list[bytes]:
    # What the app will do: list the nodes, fetch them in one query, compute from the rows.
    rows = {node: store[node] for node in inclusion_proof_nodes(index, size)}
    return inclusion_proof(index, size, getter_from_mapping(rows))


def _time_each(calls: list[Callable[[], object]]) -> list[float]:
    """Wall time of each call in milliseconds."""
    out = []
    for call in calls:
        t0 = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="In-memory benchmark of the policy-log Merkle core.")
    parser.add_argument("--quick", action="store_true", help="stop at 100k leaves (for CI smoke runs)")
    parser.add_argument("--samples", type=int, default=2000, help="proofs timed per tree size")
    parser.add_argument(
        "--database-url",
        action="append",
        help="also benchmark the database-backed log here (repeatable; 'sqlite' for a temporary file)",
    )
    args = parser.parse_args(argv)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    rng = random.Random(SEED)
    started = time.perf_counter()

    print(f"policy-log Merkle core, in memory (Python {sys.version.split()[0]})")
    print()

    # --- appends ------------------------------------------------------------------
    n_max = sizes[-1]
    store, store_rate = build_store(n_max)
    ref_rate = reference_appends_per_second(min(n_max, 200_000))
    print("appends (leaf hash included in both)")
    print(f"  perfect-node dict store : {store_rate:12,.0f} appends/s", end="")
    print(f"  ({n_max:,} leaves, {len(store):,} perfect nodes)")
    print(f"  ReferenceTree list      : {ref_rate:12,.0f} appends/s")
    print(f"  ratio store/reference   : {store_rate / ref_rate:12.2f}x", end="")
    print("  (the store also hashes and writes interior nodes)")
    print()

    get = getter_from_mapping(store)

    # --- inclusion proofs -------------------------------------------------------------
    print("inclusion proofs from the perfect-node store")
    print(
        f"  {'leaves':>9}  {'mean ms':>8}  {'p99 ms':>8}  {'batch ms':>8}  {'hashes':>9}  {'reads':>9}  "
        f"goal <= {GOAL_PROOF_MS} ms and <= {GOAL_PROOF_HASHES} hashes"
    )
    per_size_mean: dict[int, float] = {}
    for n in sizes:
        indexes = [rng.randrange(n) for _ in range(args.samples)]
        times = _time_each([functools.partial(inclusion_proof, i, n, get) for i in indexes])
        batch_times = _time_each([functools.partial(_batched_inclusion, store, i, n) for i in indexes])
        lengths = [len(inclusion_proof(i, n, get)) for i in indexes]
        reads = [len(inclusion_proof_nodes(i, n)) for i in indexes]
        root = root_hash(n, get)
        for i in indexes[:200]:  # sanity: what is timed is also what verifies
            verify_inclusion(store[(0, i)], i, n, inclusion_proof(i, n, get), root)
        mean = statistics.fmean(times)
        per_size_mean[n] = mean
        verdict = "met" if mean <= GOAL_PROOF_MS and max(lengths) <= GOAL_PROOF_HASHES else "MISSED"
        print(
            f"  {n:>9,}  {mean:8.4f}  {_p(times, 0.99):8.4f}  {statistics.fmean(batch_times):8.4f}  "
            f"{statistics.fmean(lengths):5.1f}/{max(lengths):<3}  "
            f"{statistics.fmean(reads):5.1f}/{max(reads):<3}  {verdict} (in memory)"
        )
    print("  (hashes and reads are mean/max; batch = list nodes + fetch into a dict + compute)")
    print()

    # --- reference recomputation at the smallest size ---------------------------------------
    n_ref = sizes[0]
    ref = ReferenceTree(store[(0, i)] for i in range(n_ref))
    ref_indexes = [rng.randrange(n_ref) for _ in range(20)]
    ref_times = _time_each([functools.partial(ref.inclusion_proof, i, n_ref) for i in ref_indexes])
    for i in ref_indexes:
        assert ref.inclusion_proof(i, n_ref) == inclusion_proof(i, n_ref, get)
    ref_mean = statistics.fmean(ref_times)
    print(f"ReferenceTree recomputation at {n_ref:,} leaves (O(n) per proof, {len(ref_indexes)} samples)")
    print(f"  reference mean          : {ref_mean:10.3f} ms/proof")
    print(f"  perfect-node store mean : {per_size_mean[n_ref]:10.4f} ms/proof")
    print(f"  speed-up                : {ref_mean / per_size_mean[n_ref]:10.0f}x")
    print()

    # --- consistency proofs ------------------------------------------------------------
    n = sizes[-1]
    pairs = []
    for _ in range(args.samples):
        second = rng.randrange(2, n + 1)
        pairs.append((rng.randrange(1, second), second))
    c_times = _time_each([functools.partial(consistency_proof, a, b, get) for a, b in pairs])
    c_reads = [len(consistency_proof_nodes(a, b)) for a, b in pairs]
    c_hashes = [len(consistency_proof(a, b, get)) for a, b in pairs]
    for a, b in pairs[:100]:
        verify_consistency(a, b, root_hash(a, get), root_hash(b, get), consistency_proof(a, b, get))
    print(f"consistency proofs at up to {n:,} leaves ({len(pairs)} random size pairs)")
    print(f"  mean {statistics.fmean(c_times):.4f} ms, p99 {_p(c_times, 0.99):.4f} ms")
    print(f"  hashes mean {statistics.fmean(c_hashes):.1f} / max {max(c_hashes)}", end="")
    print(f", node reads mean {statistics.fmean(c_reads):.1f} / max {max(c_reads)}")
    print()
    print(
        f"note: an inclusion proof is ceil(log2 n) hashes, so the {GOAL_PROOF_HASHES}-hash goal holds up to"
    )
    print(
        f"      2**{GOAL_PROOF_HASHES} = {2**GOAL_PROOF_HASHES:,} leaves; each doubling beyond adds one hash."
    )
    if args.database_url:
        from bench.log_db import run

        print()
        print(f"in-memory reference for the ratios below: {store_rate:,.0f} appends/s (perfect-node dict)")
        print()
        for url in args.database_url:
            run(None if url == "sqlite" else url, sizes, min(args.samples, 500), per_size_mean, store_rate)
    print(f"total benchmark time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
