"""Benchmark: what slices that compose safely cost (issue 17 asks at most 1.5x the same slice without it).

Run from the repository root:

    python -m bench.slice_composition [--database-url URL] [--customers N] [--repeats R]

Seeds N demo customers (default 500, the load benchmark's population) through the demo's bulk path
(`infomediary.demo.seed_demo`: sealed profiles, as the services write them) into a temporary SQLite file,
or into the database at URL (an EMPTY one of your own: it is migrated, seeded and left as it is; the keys
live in a temporary data directory, so each run needs a fresh database). The demo supplier publishes a
policy for the slice's categories.

Then the same slice (four fields, every permitted customer) is taken two ways, interleaved so that load on
a shared machine hits both alike, each in a savepoint rolled back after it (every repetition starts from the
same state), best of R:

* composed: `slices.service.take_slice` as it runs, keyed by a fresh release's pseudonyms
  (`pseudonyms.release_pseudonyms`: encryptions under a fresh release marker, nothing recorded);
* stable: the same `take_slice` with the release step replaced by the lower-level stable issue
  (`pseudonyms.issue_many`, the customer's one pairwise pseudonym), which is what a slice did before.

Both generalise every field as a quasi-identifier: that part of the composition guarantee is not something
a supplier could be given a slice without, so only the pseudonym step differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from sqlalchemy import select

from consent.vocabulary import Category, Purpose
from infomediary import schema
from infomediary.database import WriteSession, unit_of_work
from infomediary.demo import DEMO_SUPPLIER, seed_demo
from infomediary.flows import policy_published
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from infomediary.slices import service
from infomediary.suppliers.models import Supplier

FIELDS = ["birth_date", "postal_code", "gender", "interests"]
CATEGORIES = [Category.DEMOGRAPHICS, Category.CONTACT, Category.INTERESTS]
GOAL_RATIO = 1.5


def _stable_release(runtime: Runtime, supplier_id: str, customer_ids: list[str]) -> pseudonyms.Release:
    """The baseline: the customers' stable pseudonyms, as slices handed out before releases had their own
    (recorded as handed over, in the slice's transaction)."""
    session = _BASELINE_SESSION[0]
    return pseudonyms.Release("stable", pseudonyms.issue_many(session, runtime, supplier_id, customer_ids))


# The session the baseline records its stable pseudonyms in (the release step itself takes none).
_BASELINE_SESSION: list[WriteSession] = []


def _prepare(runtime: Runtime, customers: int) -> str:
    runtime.keys.ensure()
    schema.upgrade(runtime.engine)
    started = time.perf_counter()
    note = seed_demo(runtime, customers=customers, seed=17).get("note")
    if note is not None:
        # Sealed under another run's keys, which went with its temporary data directory.
        raise SystemExit(f"slice composition: {note}; give an empty database")
    print(f"slice composition: seeded {customers:,} customers in {time.perf_counter() - started:.1f} s")
    with unit_of_work(runtime.session_factory) as session:
        supplier_id = session.scalar(select(Supplier.id).where(Supplier.name == DEMO_SUPPLIER))
        assert supplier_id is not None
        policy_published.publish_policy(
            session,
            runtime,
            supplier_id,
            purposes=[Purpose.MARKETING],
            categories=CATEGORIES,
            policy_url=None,
        )
    return supplier_id


def _timed(runtime: Runtime, supplier_id: str, stable: bool) -> tuple[float, int]:
    """One slice in a savepoint rolled back after it: seconds taken and rows released."""
    with runtime.session_factory() as session:
        savepoint = session.begin_nested()
        try:
            _BASELINE_SESSION[:] = [session]
            patch = mock.patch.object(pseudonyms, "release_pseudonyms", _stable_release) if stable else None
            if patch is not None:
                patch.start()
            try:
                begin = time.perf_counter()
                taken = service.take_slice(session, runtime, supplier_id, Purpose.MARKETING, FIELDS)
                seconds = time.perf_counter() - begin
            finally:
                if patch is not None:
                    patch.stop()
        finally:
            savepoint.rollback()
            session.rollback()
    return seconds, len(taken.rows)


def measure(runtime: Runtime, supplier_id: str, repeats: int) -> bool:
    composed: list[float] = []
    stable: list[float] = []
    rows: set[int] = set()
    runs: list[tuple[list[float], Callable[[], tuple[float, int]]]] = [
        (composed, lambda: _timed(runtime, supplier_id, stable=False)),
        (stable, lambda: _timed(runtime, supplier_id, stable=True)),
    ]
    for _ in range(repeats):
        for times, run in runs:
            seconds, count = run()
            times.append(seconds)
            rows.add(count)
    assert len(rows) == 1, f"the two ways released different slices: {rows}"
    best_composed, best_stable = min(composed) * 1000, min(stable) * 1000
    ratio = best_composed / best_stable
    backend = runtime.engine.dialect.name
    print(f"slice of {rows.pop():,} rows ({', '.join(FIELDS)}) on {backend}, best of {repeats}:")
    print(f"  per-release pseudonyms (composed): {best_composed:8.1f} ms")
    print(f"  stable pseudonyms (baseline):      {best_stable:8.1f} ms")
    print(f"  ratio: {ratio:.2f}x (goal <= {GOAL_RATIO}x)")
    return ratio <= GOAL_RATIO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slice_composition", description=__doc__)
    parser.add_argument(
        "--database-url", help="an empty database of your own (default: a temporary SQLite file)"
    )
    parser.add_argument("--customers", type=int, default=500, help="demo customers to seed")
    parser.add_argument("--repeats", type=int, default=15, help="slices timed each way")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(data_dir=Path(tmp) / "var", database_url=url, log_level="WARNING")
        with Runtime.open(settings) as runtime:
            supplier_id = _prepare(runtime, args.customers)
            return 0 if measure(runtime, supplier_id, args.repeats) else 1


if __name__ == "__main__":
    sys.exit(main())
