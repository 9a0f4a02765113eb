"""Database-backed part of the policy-log benchmark: batched appends per second and inclusion-proof latency
at growing sizes, on SQLite or PostgreSQL, with ratios against the in-memory reference of the same run.

Run from the repo root:  python -m bench.log --database-url URL  [--quick]
(SQLite in a temporary file by default; a PostgreSQL URL gets a fresh database, dropped afterwards.)
"""

from __future__ import annotations

import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from infomediary import schema
from infomediary.database import create_db_engine, create_session_factory, unit_of_work
from infomediary.policylog import kinds, proofs
from infomediary.policylog.merkle import ReferenceTree, getter_from_mapping, root_hash, root_hash_nodes
from infomediary.policylog.nodes import fetch_nodes
from infomediary.policylog.proof_verification import verify_inclusion
from infomediary.policylog.service import append_many

BATCH = 10_000
SMALL_BATCH = 1_000
SUBJECT = "ab" * 32


@contextmanager
def fresh_engine(url: str | None) -> Iterator[Engine]:
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            engine = create_db_engine(url or f"sqlite:///{directory}/bench.db")
            schema.upgrade(engine)
            yield engine
            engine.dispose()
        return
    name = f"infomediary_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = create_db_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
        schema.upgrade(engine)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _entry(i: int) -> dict[str, object]:
    return {
        "kind": kinds.DECISION,
        "at": "2026-01-01T00:00:00.000000Z",
        "subject": SUBJECT,
        "supplier_id": f"sup_{i % 97}",
        "purpose": "marketing",
        "decision": kinds.PERMIT if i % 3 else kinds.DENY,
        "reason": f"rule {i % 11}",
        "categories": ["interests"],
    }


GOAL_APPENDS = 5_000


@dataclass
class SizeResult:
    size: int
    proof_mean_ms: float
    proof_p95_ms: float
    proof_p99_ms: float
    hashes_max: int


def _rate(count: int, elapsed: float, memory_rate: float) -> str:
    rate = count / elapsed
    verdict = "met" if rate >= GOAL_APPENDS else "MISSED"
    return f"{rate:9,.0f} appends/s = {rate / memory_rate:5.3f}x in-memory ({elapsed:.1f} s) {verdict}"


def run(
    url: str | None,
    sizes: list[int],
    samples: int,
    memory_proof_ms: dict[int, float],
    memory_append_rate: float,
) -> None:
    backend = "SQLite" if url is None or url.startswith("sqlite") else "PostgreSQL"
    with fresh_engine(url) as engine:
        factory = create_session_factory(engine)
        # Proofs read through a read-only engine on the same database, as the service's readers do.
        read_engine = create_db_engine(engine.url.render_as_string(hide_password=False), read_only=True)
        reader = create_session_factory(read_engine, writes=False)
        reference = ReferenceTree()
        print(f"{backend}: batched appends (append_many, one transaction per batch; goal {GOAL_APPENDS:,}/s)")

        def grow(to: int, batch: int) -> float:
            t0 = time.perf_counter()
            while len(reference) < to:
                n = min(batch, to - len(reference))
                with unit_of_work(factory) as session:
                    receipts = append_many(session, [_entry(len(reference) + k) for k in range(n)])
                for receipt in receipts:
                    reference.append_leaf_hash(receipt.leaf_hash)
            return time.perf_counter() - t0

        # Steady-state rate with modest batches first, then bulk growth to each size.
        first = sizes[0]
        elapsed = grow(first, SMALL_BATCH)
        print(
            f"  {0:>9,} -> {first:,} in batches of {SMALL_BATCH:,}: "
            f"{_rate(first, elapsed, memory_append_rate)}"
        )
        results: list[SizeResult] = []
        rng = random.Random(6962)
        for size in sizes:
            if size > len(reference):
                before = len(reference)
                elapsed = grow(size, BATCH)
                print(
                    f"  {before:>9,} -> {size:,} in batches of {BATCH:,}: "
                    f"{_rate(size - before, elapsed, memory_append_rate)}"
                )
            root = reference.root() if size <= 100_000 else None
            times, longest = [], 0
            with reader() as session:
                for _ in range(samples):
                    index = rng.randrange(size)
                    t0 = time.perf_counter_ns()
                    path = proofs.inclusion(session, index, size)
                    times.append((time.perf_counter_ns() - t0) / 1e6)
                    longest = max(longest, len(path))
                    if root is not None and len(times) <= 50:
                        verify_inclusion(reference.leaves[index], index, size, path, root)
                # The stored root must be the reference root (checked where the O(n) reference is cheap).
                if root is not None:
                    stored = root_hash(size, getter_from_mapping(fetch_nodes(session, root_hash_nodes(size))))
                    assert stored == root, "stored tree differs from the in-memory reference"
            ordered = sorted(times)
            results.append(
                SizeResult(
                    size,
                    statistics.fmean(times),
                    ordered[int(0.95 * (len(times) - 1))],
                    ordered[int(0.99 * (len(times) - 1))],
                    longest,
                )
            )
        print(f"{backend}: inclusion proofs (one query for the nodes; {samples} random leaves per size)")
        print(
            f"  {'entries':>9}  {'mean ms':>8}  {'p95 ms':>8}  {'p99 ms':>8}  {'hashes':>6}  "
            f"{'vs memory':>9}  "
            "goal <= 5 ms (mean and p95), <= 20 hashes"
        )
        for r in results:
            ratio = r.proof_mean_ms / memory_proof_ms[r.size] if memory_proof_ms.get(r.size) else float("nan")
            verdict = "met" if max(r.proof_mean_ms, r.proof_p95_ms) <= 5 and r.hashes_max <= 20 else "MISSED"
            print(
                f"  {r.size:>9,}  {r.proof_mean_ms:8.3f}  {r.proof_p95_ms:8.3f}  {r.proof_p99_ms:8.3f}  "
                f"{r.hashes_max:>6}  "
                f"{ratio:8.0f}x  {verdict}"
            )
        print()
        read_engine.dispose()
