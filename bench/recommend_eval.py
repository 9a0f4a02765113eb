"""Evaluation of the recommenders on MovieLens 100K, through the broker's own service functions.

`python -m bench.recommend_eval` (fetch the data first: `python -m bench.movielens`). Every user becomes a
customer with a data key, every rating a sealed `rating` activity record (timestamps moved ten years
later: the vault refuses activity before 2000; order is kept). Each user's latest `HOLDOUT` ratings are
held out and never loaded. The supplier's recommenders are trained with `training.train` (consent
decisions logged) and each customer's top 10 comes from `service.for_customer`, the function behind
`GET /v1/recommendations/{pseudonym}`. Reported in the same run: NDCG@10 and recall@10 of the popularity
baseline and of each recommender, against the held-out items (binary relevance). Goal: the best
recommender beats popularity by at least 30% on NDCG@10.
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import insert

from bench import movielens
from consent.vocabulary import Category, Purpose
from infomediary import schema
from infomediary.customers import directory
from infomediary.customers.blind_index import email_index
from infomediary.customers.models import Customer
from infomediary.database import unit_of_work, utcnow
from infomediary.demo import DISABLED_PASSWORD
from infomediary.flows import policy_published, supplier_registered
from infomediary.ids import new_id
from infomediary.products import service as products
from infomediary.profiles import activity, datakeys
from infomediary.profiles.records import ActivityIn
from infomediary.recommendations import history, ranking, service, store, training
from infomediary.runtime import Runtime
from infomediary.settings import Settings

HOLDOUT = 10
K = 10
GOAL = 1.30
SHIFT = timedelta(days=3653)
RECORD = TypeAdapter[Any](ActivityIn)


@dataclass
class Loaded:
    supplier_id: str
    customers: dict[str, str]  # MovieLens user -> customer id
    held_out: dict[str, set[str]]  # customer id -> held-out item ids
    seconds: float


def item_id(movie: str) -> str:
    return f"ml:{movie}"


def split(
    ratings: list[movielens.Rating], holdout: int = HOLDOUT
) -> tuple[list[movielens.Rating], list[movielens.Rating]]:
    """Each user's latest `holdout` ratings (by time, then item) are the test set; the rest trains."""
    by_user: dict[str, list[movielens.Rating]] = defaultdict(list)
    for r in ratings:
        by_user[r.user].append(r)
    train, test = [], []
    for rows in by_user.values():
        rows.sort(key=lambda r: (r.timestamp, int(r.item)))
        train.extend(rows[:-holdout])
        test.extend(rows[-holdout:])
    return train, test


def load(runtime: Runtime, data_dir: Path = movielens.DATA_DIR, *, users: int | None = None) -> Loaded:
    """A supplier with the MovieLens catalog and every user's training ratings sealed in their vault."""
    started = time.perf_counter()
    ratings = movielens.ratings(data_dir)
    if users is not None:
        keep = {str(u) for u in range(1, users + 1)}
        ratings = [r for r in ratings if r.user in keep]
    train, test = split(ratings)
    with unit_of_work(runtime.session_factory) as session:
        view, _ = supplier_registered.register_supplier(
            session, name=f"MovieLens {new_id('x')[-6:]}", scopes=["recommendations:read"]
        )
        policy_published.publish_policy(
            session, runtime, view.id, purposes=[Purpose.PERSONALISATION],
            categories=[Category.ACTIVITY, Category.PURCHASES], policy_url=None,
        )  # fmt: skip
        rows = [
            {
                "id": item_id(movie),
                "title": title,
                "categories": sorted({re.sub(r"[^a-z0-9_-]", "", g.lower()) for g in genres} - {""}),
                "price": 500,
                "currency": "EUR",
            }
            for movie, (title, genres) in movielens.titles(data_dir).items()
        ]
        products.replace(session, runtime, view.id, rows)
    by_user: dict[str, list[movielens.Rating]] = defaultdict(list)
    for r in train:
        by_user[r.user].append(r)
    customers: dict[str, str] = {}
    key = runtime.keys.secret("blind_index")
    names = sorted(by_user, key=int)
    for start in range(0, len(names), 100):
        batch = names[start : start + 100]
        ids = {user: new_id("sub") for user in batch}
        now = utcnow()
        directory.name_loaded_accounts(
            runtime, {cid: email_index(key, f"{cid}@example.org") for cid in ids.values()}
        )
        with unit_of_work(runtime.session_factory) as session:
            # As the demo seeder does: accounts without a usable password (argon2 per user adds nothing here).
            session.execute(
                insert(Customer),
                [
                    {"id": cid, "password_hash": DISABLED_PASSWORD, "created_at": now,
                     "password_changed_at": now}
                    for cid in ids.values()
                ],
            )  # fmt: skip
            datakeys.create(session, runtime, list(ids.values()))
            for user, cid in ids.items():
                records = [
                    RECORD.validate_python(
                        {
                            "kind": "rating",
                            "item": item_id(r.item),
                            "value": r.value,
                            "occurred_at": datetime.fromtimestamp(r.timestamp, UTC) + SHIFT,
                        }
                    )
                    for r in by_user[user]
                ]
                activity.record(session, runtime, cid, records)
        customers.update(ids)
    held: dict[str, set[str]] = defaultdict(set)
    for r in test:
        if r.user in customers:
            held[customers[r.user]].add(item_id(r.item))
    return Loaded(view.id, customers, dict(held), time.perf_counter() - started)


def ndcg(ranked: list[str], relevant: set[str], k: int = K) -> float:
    gain = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0


def recall(ranked: list[str], relevant: set[str], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def evaluate(runtime: Runtime, loaded: Loaded) -> dict[str, tuple[float, float]]:
    """name -> (NDCG@10, recall@10), averaged over customers, for popularity and each recommender."""
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with unit_of_work(runtime.session_factory) as session:
        models = store.load(session, loaded.supplier_id)
        assert models is not None
        for customer_id, relevant in loaded.held_out.items():
            found = service.for_customer(
                session, runtime, loaded.supplier_id, customer_id, K, algorithm="als"
            )
            seen = _seen(session, runtime, customer_id, models)
            baseline = [c.item for c in ranking.popular(models, [], seen, K)]
            scores["popularity"].append((ndcg(baseline, relevant), recall(baseline, relevant)))
            for name in ranking.ALGORITHMS:
                if name == "als":
                    ranked = [i.id for i in found.items]
                else:
                    ranked = [
                        i.id
                        for i in service.for_customer(
                            session, runtime, loaded.supplier_id, customer_id, K, algorithm=name
                        ).items
                    ]
                scores[name].append((ndcg(ranked, relevant), recall(ranked, relevant)))
    return {
        name: (sum(a for a, _ in pairs) / len(pairs), sum(b for _, b in pairs) / len(pairs))
        for name, pairs in scores.items()
    }


def _seen(session: Any, runtime: Runtime, customer_id: str, models: store.Models) -> set[str]:
    return set(history.read(session, runtime, customer_id, models.index, [Category.ACTIVITY]).weights)


def run(data_dir: Path = movielens.DATA_DIR, *, users: int | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), log_json=True, log_level="WARNING")
        with Runtime.open(settings) as runtime:
            runtime.keys.ensure()
            schema.upgrade(runtime.engine)
            loaded = load(runtime, data_dir, users=users)
            started = time.perf_counter()
            with unit_of_work(runtime.session_factory) as session:
                report = training.train(session, runtime, loaded.supplier_id)
            trained = time.perf_counter() - started
            results = evaluate(runtime, loaded)
    return {"results": results, "load_seconds": loaded.seconds, "train_seconds": trained, "report": report}


def main(argv: list[str] | None = None) -> int:
    if not movielens.present():
        print("MovieLens 100K is absent: run `python -m bench.movielens` first (it is never committed)")
        return 1
    out = run()
    results = out["results"]
    print(f"loaded in {out['load_seconds']:.1f} s, trained in {out['train_seconds']:.1f} s "
          f"({out['report'].customers} customers, {out['report'].interactions} interactions)")  # fmt: skip
    print(f"{'recommender':<12} {'NDCG@10':>8} {'recall@10':>10} {'vs popularity':>14}")
    base = results["popularity"][0]
    for name, (n, r) in results.items():
        print(f"{name:<12} {n:8.4f} {r:10.4f} {n / base:13.2f}x")
    best = max(n for name, (n, _) in results.items() if name != "popularity")
    verdict = "met" if best >= GOAL * base else "NOT met"
    print(f"goal (best >= {GOAL:.2f}x popularity on NDCG@10): {verdict}")
    return 0 if best >= GOAL * base else 1


if __name__ == "__main__":
    sys.exit(main())
