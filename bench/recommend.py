"""Benchmark of recommendations: latency for a pseudonym against the library's own call, and training time.

Run from the repository root: `python -m bench.recommend [--users N] [--calls N]` (MovieLens 100K must
have been fetched: `python -m bench.movielens`; without it the benchmark says so and exits 0).

In one run, on one trained model:
* `service.recommend` for a pseudonym (resolve, consent decisions per category logged in the policy log,
  decrypting the customer's history from the vault, ALS with the user's vector recomputed, rules, catalog
  lookups, the release entry; one committed transaction per call), p50 and p95;
* the baseline: implicit's own `AlternatingLeastSquares.recommend(..., recalculate_user=True)` on the same
  model and the same customer's row, p50 and p95; the overhead ratio (goal: at most 2x);
* training time on MovieLens 100K (histories decrypted through consent, item-to-item, ALS, popularity).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from bench import movielens, recommend_eval
from consent.catalog import Category
from infomediary import pseudonyms, schema
from infomediary.database import unit_of_work
from infomediary.recommendations import history, ranking, service, store, training
from infomediary.runtime import Runtime
from infomediary.settings import Settings

GOAL = 2.0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recommend", description=__doc__)
    parser.add_argument("--users", type=int, default=None, help="Only the first N MovieLens users.")
    parser.add_argument("--calls", type=int, default=300, help="Recommendation calls measured.")
    args = parser.parse_args(argv)
    if not movielens.present():
        print("-- MovieLens 100K is absent: run `python -m bench.movielens` first; skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), log_level="WARNING")
        with Runtime.open(settings) as runtime:
            runtime.keys.ensure()
            schema.upgrade(runtime.engine)
            loaded = recommend_eval.load(runtime, users=args.users)
            started = time.perf_counter()
            with unit_of_work(runtime.session_factory) as session:
                report = training.train(session, runtime, loaded.supplier_id)
            train_seconds = time.perf_counter() - started
            customers = sorted(loaded.held_out)[: args.calls]
            with unit_of_work(runtime.session_factory) as session:
                names = {
                    c: pseudonyms.issue(session, runtime, loaded.supplier_id, c).pseudonym for c in customers
                }
                models = store.load(session, loaded.supplier_id)
                assert models is not None and models.als is not None
                rows = {
                    c: ranking.user_row(
                        models, history.read(session, runtime, c, models.index, [Category.ACTIVITY]).weights
                    )
                    for c in customers
                }
            ours: list[float] = []
            theirs: list[float] = []
            with threadpool_limits(1, "blas"):
                for customer_id in customers:
                    begin = time.perf_counter()
                    with unit_of_work(runtime.session_factory) as session:
                        service.recommend(session, runtime, loaded.supplier_id, names[customer_id], 10)
                    ours.append(time.perf_counter() - begin)
                    begin = time.perf_counter()
                    models.als.recommend(0, rows[customer_id], N=10, recalculate_user=True)
                    theirs.append(time.perf_counter() - begin)
    our50, our95 = _percentiles(ours)
    lib50, lib95 = _percentiles(theirs)
    print(f"training on MovieLens 100K: {train_seconds:.1f} s ({report.customers} customers, "
          f"{report.interactions} interactions, {report.items} items; stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()) + ")")  # fmt: skip
    print(f"implicit ALS recommend (baseline): p50 {lib50 * 1e3:.2f} ms, p95 {lib95 * 1e3:.2f} ms")
    print(f"GET /v1/recommendations service:   p50 {our50 * 1e3:.2f} ms, p95 {our95 * 1e3:.2f} ms")
    ratio = our50 / lib50
    print(
        f"overhead ratio (p50): {ratio:.1f}x (goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
