"""Benchmark of recommendations: latency for a pseudonym against the library's own call, and training time.

Run from the repository root: `python -m bench.recommend [--users N] [--calls N]` (MovieLens 100K must
have been fetched: `python -m bench.movielens`; without it the benchmark says so and exits 0).

In one run, on one trained model:
* `service.recommend` for a pseudonym (resolve, consent decisions per category logged in the policy log,
  decrypting the customer's history from the vault, ALS with the user's vector recomputed, rules, catalog
  lookups, the release entry; one committed transaction per call), p50 and p95;
* the baseline: implicit's own `AlternatingLeastSquares.recommend(..., recalculate_user=True)` on the same
  model and the same customer's row, p50 and p95; the overhead ratio (goal: at most 2x);
* a second, fairer baseline, the guarded floor: the least a request must do to keep the guarantees, built
  from the same parts in one committed transaction per call: resolve the pseudonym, one consent decision
  (the decision point's loads) with its policy-log entry, the customer's data key and history decrypted
  from the vault, then implicit's call. The service's ratio against it is what the service adds on top of
  the guarantees (one decision per category, rules, exclusions, catalog lookups, the release entry);
* with `--stages`, the service's time split by stage (median per stage, wrapping the functions it calls);
* training time on MovieLens 100K (histories decrypted through consent, item-to-item, ALS, popularity).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from bench import movielens, recommend_eval
from consent.vocabulary import Category
from infomediary import schema
from infomediary.consents.decision_point import decide_for, supplier_query
from infomediary.database import unit_of_work
from infomediary.pseudonyms import service as pseudonyms
from infomediary.recommendations import history, ranking, service, store, training
from infomediary.recommendations.store import Models
from infomediary.runtime import Runtime
from infomediary.settings import Settings

GOAL = 2.0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _floor(runtime: Runtime, supplier_id: str, pseudonym: str, models: Models) -> None:
    """The guarded floor: what any recommendation must do to keep the guarantees, and implicit's call."""
    assert models.als is not None
    with unit_of_work(runtime.session_factory) as session:
        customer_id = pseudonyms.resolve(session, runtime, supplier_id, pseudonym)
        query = supplier_query(
            session,
            supplier_id=supplier_id,
            purpose=history.PURPOSE,
            categories=[Category.ACTIVITY],
            release_kind=history.RELEASE_KIND,
        )
        if not decide_for(session, runtime, customer_id, query).permitted:
            return
        found = history.read(session, runtime, customer_id, models.index, [Category.ACTIVITY])
        models.als.recommend(0, ranking.user_row(models, found.weights), N=10, recalculate_user=True)


# What `--stages` times: the functions `service.for_customer` calls, by the names it calls them.
STAGES: list[tuple[Any, str, str]] = [
    (service.pseudonyms, "resolve", "resolve the pseudonym"),
    (service.rules, "enabled_rules", "the supplier's enabled rules"),
    (service.history, "decide_with_entries", "consent decisions (one per category)"),
    (service.store, "load", "model (cached: training time only)"),
    (service.datakeys, "cipher_for", "the customer's data key"),
    (service.exclusions, "read", "the customer's exclusions"),
    (service.history, "read", "history: read and decrypt"),
    (service.facts, "index_row", "audience index row"),
    (service.ranking, "collaborative", "ALS recommend (pool 4n+20)"),
    (service.products, "listings_of", "catalog listings of the candidates"),
    (service, "fire", "rules fired"),
    (service, "log_append_many", "policy log: one append_many"),
]


@contextmanager
def _timed_stages(samples: dict[str, list[float]]) -> Iterator[None]:
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in STAGES]

    def timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            begin = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                samples[label].append(time.perf_counter() - begin)

        return call

    for (owner, name, label), (_, _, original) in zip(STAGES, originals, strict=True):
        setattr(owner, name, timed(original, label))
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def _stages(runtime: Runtime, supplier_id: str, names: list[str]) -> None:
    samples: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    with _timed_stages(samples):
        for name in names:
            begin = time.perf_counter()
            with unit_of_work(runtime.session_factory) as session:
                service.recommend(session, runtime, supplier_id, name, 10)
                before_commit = time.perf_counter()
            samples["commit"].append(time.perf_counter() - before_commit)
            totals.append(time.perf_counter() - begin)
    print("service stages (median per call, ms):")
    for label, values in samples.items():
        print(f"  {label:40s} {statistics.median(values) * 1e3:6.3f}")
    print(f"  {'sum of the medians':40s} {sum(statistics.median(v) for v in samples.values()) * 1e3:6.3f}")
    print(f"  {'whole call (median)':40s} {statistics.median(totals) * 1e3:6.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recommend", description=__doc__)
    parser.add_argument("--users", type=int, default=None, help="Only the first N MovieLens users.")
    parser.add_argument("--calls", type=int, default=300, help="Recommendation calls measured.")
    parser.add_argument("--stages", action="store_true", help="Also split the service's time by stage.")
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
            floor: list[float] = []
            with threadpool_limits(1, "blas"):
                # Interleaved per customer, so load on the machine hits all three alike.
                for customer_id in customers:
                    begin = time.perf_counter()
                    with unit_of_work(runtime.session_factory) as session:
                        service.recommend(session, runtime, loaded.supplier_id, names[customer_id], 10)
                    ours.append(time.perf_counter() - begin)
                    begin = time.perf_counter()
                    models.als.recommend(0, rows[customer_id], N=10, recalculate_user=True)
                    theirs.append(time.perf_counter() - begin)
                    begin = time.perf_counter()
                    _floor(runtime, loaded.supplier_id, names[customer_id], models)
                    floor.append(time.perf_counter() - begin)
                if args.stages:
                    _stages(runtime, loaded.supplier_id, [names[c] for c in customers])
    our50, our95 = _percentiles(ours)
    lib50, lib95 = _percentiles(theirs)
    print(f"training on MovieLens 100K: {train_seconds:.1f} s ({report.customers} customers, "
          f"{report.interactions} interactions, {report.items} items; stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()) + ")")  # fmt: skip
    print(f"implicit ALS recommend (baseline): p50 {lib50 * 1e3:.2f} ms, p95 {lib95 * 1e3:.2f} ms")
    floor50, floor95 = _percentiles(floor)
    print(f"guarded floor (baseline 2):        p50 {floor50 * 1e3:.2f} ms, p95 {floor95 * 1e3:.2f} ms")
    print(f"GET /v1/recommendations service:   p50 {our50 * 1e3:.2f} ms, p95 {our95 * 1e3:.2f} ms")
    ratio = our50 / lib50
    print(
        f"overhead ratio (p50): {ratio:.1f}x (goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'NOT met'})"
    )
    print(
        f"against the guarded floor (p50): {our50 / floor50:.1f}x "
        f"(the floor itself is {floor50 / lib50:.1f}x implicit's call)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
