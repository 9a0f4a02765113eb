"""Training a supplier's recommenders inside the broker, on the consented interactions of its catalog.

Library: `implicit` (benfred/implicit, maintained, wheels for CPython 3.11 on Linux/macOS/Windows): its
item-to-item cosine recommender and its conjugate-gradient ALS for implicit feedback (Hu, Koren, Volinsky)
are the standard implementations, in C++ with OpenMP; and its ALS can recompute one user's vector from
that user's own items at request time (`recalculate_user`), which is what lets us store no user factors.

Consent: for each interaction category (activity, purchases) the set filter selects the customers whose
consent permits personalisation by this supplier, each is decided again one by one (the same rules; the
property test holds them equal) and every decision is appended to the policy log in this transaction, and
only then are those customers' interactions of that category decrypted. Customers who do not consent
contribute nothing: not a row, not a column, not an ordering (users are ordered by customer id among the
permitted only), so a model trained without them equals one trained on a vault where they never existed.

Cold start: the most popular items, globally and per segment (one allow-listed audience dimension value,
e.g. `age_band=45-54`), kept only for segments of at least `recommend_min_segment` customers who consent
to personalisation with that dimension's category. Only ranked item ids are stored, never counts.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.nearest_neighbours import CosineRecommender
from implicit.utils import ParameterWarning
from scipy import sparse
from sqlalchemy import select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from consent.vocabulary import Category
from infomediary.audiences.dimensions import DIMENSIONS, INTERESTS
from infomediary.audiences.models import AudienceIndexRow
from infomediary.consents.decision_point import evaluate, supplier_query
from infomediary.consents.entries import decision_entry
from infomediary.consents.set_filter import permitted_customers_for
from infomediary.database import WriteSession, utcnow
from infomediary.policylog.service import append_many
from infomediary.products import service as products
from infomediary.profiles.errors import CustomerShredded
from infomediary.recommendations import history, store
from infomediary.recommendations.errors import NoCatalog
from infomediary.runtime import Runtime

# (stage, done, total): the command line draws it as a progress bar.
Progress = Callable[[str, int, int], None]
SEGMENT_DIMENSIONS = (
    "age_band",
    "gender",
    "interest",
    "rfm_recency_band",
    "rfm_frequency_band",
    "rfm_monetary_band",
)
POPULAR_KEPT = 200
_BATCH = 500


@dataclass
class TrainingReport:
    supplier_id: str
    customers: int
    interactions: int
    items: int
    segments: int
    seconds: dict[str, float] = field(default_factory=dict)


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def permitted_by_category(
    session: WriteSession, runtime: Runtime, supplier_id: str, categories: tuple[Category, ...]
) -> dict[str, set[Category]]:
    """customer -> the categories each permits for personalisation by this supplier; every decision logged."""
    permitted: dict[str, set[Category]] = defaultdict(set)
    entries = []
    for category in categories:
        query = supplier_query(
            session,
            supplier_id=supplier_id,
            purpose=history.PURPOSE,
            categories=[category],
            release_kind=history.RELEASE_KIND,
        )
        for customer_id in session.scalars(permitted_customers_for(session, query)).all():
            decision = evaluate(session, customer_id, query)
            entries.append(decision_entry(runtime, customer_id, query, decision))
            if decision.permitted:
                permitted[customer_id].add(category)
    append_many(session, entries)
    return dict(permitted)


def interaction_matrix(
    session: WriteSession, runtime: Runtime, supplier_id: str, items: list[str], progress: Progress = _quiet
) -> tuple[list[str], sparse.csr_matrix]:
    """(customers, customers x items confidence matrix) from the consented interactions only."""
    index = {item: i for i, item in enumerate(items)}
    permitted = permitted_by_category(session, runtime, supplier_id, history.INTERACTION_CATEGORIES)
    customers: list[str] = []
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    ordered = sorted(permitted)
    for done, customer_id in enumerate(ordered, start=1):
        try:
            found = history.read(session, runtime, customer_id, index, permitted[customer_id])
        except CustomerShredded:
            continue  # erased, her rows back from an older backup: skipped like any erased customer
        if found.weights:
            row = len(customers)
            customers.append(customer_id)
            for item, weight in found.weights.items():
                rows.append(row)
                cols.append(index[item])
                values.append(weight)
        progress("histories", done, len(ordered))
    matrix = sparse.csr_matrix(
        (np.asarray(values, dtype=np.float32), (rows, cols)), shape=(len(customers), len(items))
    )
    return customers, matrix


def train(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    *,
    progress: Progress = _quiet,
    seed: int = 7,
    threads: int = 0,
) -> TrainingReport:
    """Train and store the item-to-item, ALS and popularity recommenders, in the caller's transaction."""
    settings = runtime.settings
    items = sorted(products.items_of(session, supplier_id))
    if not items:
        raise NoCatalog()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    customers, matrix = interaction_matrix(session, runtime, supplier_id, items, progress)
    seconds["histories"] = time.perf_counter() - started

    item_item: CosineRecommender | None = None
    als: AlternatingLeastSquares | None = None
    if matrix.nnz:
        started = time.perf_counter()
        item_item = CosineRecommender(K=settings.recommend_neighbours, num_threads=threads)
        with warnings.catch_warnings():
            # implicit's own cosine normalisation hands its kernel a COO matrix and then warns about it.
            warnings.filterwarnings("ignore", category=ParameterWarning)
            item_item.fit(matrix, show_progress=False)
        progress("item-to-item", 1, 1)
        seconds["item_item"] = time.perf_counter() - started

        started = time.perf_counter()
        iterations = settings.recommend_iterations
        # implicit parallelises itself; a second BLAS thread pool underneath only contends (its own advice).
        with threadpool_limits(1, "blas"):
            als = AlternatingLeastSquares(
                factors=settings.recommend_factors,
                regularization=settings.recommend_regularization,
                iterations=iterations,
                random_state=seed,
                num_threads=threads,
            )
            als.fit(
                matrix, show_progress=False, callback=lambda it, _s, _l: progress("als", it + 1, iterations)
            )
        seconds["als"] = time.perf_counter() - started

    started = time.perf_counter()
    popular = _ranked(Counter(int(c) for c in matrix.indices), items)
    segments = segment_popularity(session, runtime, supplier_id, customers, matrix, items)
    seconds["popularity"] = time.perf_counter() - started
    progress("popularity", 1, 1)

    store.save(
        session,
        supplier_id,
        items=items,
        trained_at=utcnow(),
        item_item=item_item,
        als=als,
        popular=popular,
        segments=segments,
        meta={"customers": len(customers), "interactions": int(matrix.nnz), "seed": seed},
    )
    return TrainingReport(supplier_id, len(customers), int(matrix.nnz), len(items), len(segments), seconds)


def _ranked(counts: Counter[int], items: list[str]) -> list[str]:
    ordered = sorted(counts.items(), key=lambda pair: (-pair[1], items[pair[0]]))
    return [items[i] for i, _ in ordered[:POPULAR_KEPT]]


def segment_popularity(
    session: Session,
    runtime: Runtime,
    supplier_id: str,
    customers: list[str],
    matrix: sparse.csr_matrix,
    items: list[str],
) -> dict[str, list[str]]:
    """Popular items per segment of consenting customers; segments under the minimum are dropped."""
    if not customers:
        return {}
    row_of = {customer_id: row for row, customer_id in enumerate(customers)}
    allowed = permitted_by_category_set(
        session, supplier_id, {DIMENSIONS[d].category for d in SEGMENT_DIMENSIONS}
    )
    members: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(customers), _BATCH):
        batch = customers[start : start + _BATCH]
        for index_row in session.scalars(
            select(AudienceIndexRow).where(AudienceIndexRow.customer_id.in_(batch))
        ):
            row = row_of[index_row.customer_id]
            for key in segment_keys(
                index_row, {c for c, ids in allowed.items() if index_row.customer_id in ids}
            ):
                members[key].append(row)
    minimum = runtime.settings.recommend_min_segment
    out: dict[str, list[str]] = {}
    for key, rows in sorted(members.items()):
        if len(rows) < minimum:
            continue
        out[key] = _ranked(Counter(int(c) for c in matrix[rows].indices), items)
    return out


def permitted_by_category_set(
    session: Session, supplier_id: str, categories: set[Category]
) -> dict[Category, set[str]]:
    """Per category, the customers permitting personalisation with it (aggregate use: not logged singly)."""
    out: dict[Category, set[str]] = {}
    for category in categories:
        query = supplier_query(
            session,
            supplier_id=supplier_id,
            purpose=history.PURPOSE,
            categories=[category],
            release_kind=history.RELEASE_KIND,
        )
        out[category] = set(session.scalars(permitted_customers_for(session, query)).all())
    return out


def segment_keys(row: AudienceIndexRow, permitted: set[Category]) -> list[str]:
    """The segments (`dimension=value`) a customer's index row puts them in, for the permitted categories."""
    keys: list[str] = []
    for dimension in SEGMENT_DIMENSIONS:
        if DIMENSIONS[dimension].category not in permitted:
            continue
        if dimension == "interest":
            keys.extend(
                f"interest={name}" for bit, name in enumerate(INTERESTS) if row.interests & (1 << bit)
            )
            continue
        value = getattr(row, dimension)
        if value is not None:
            keys.append(f"{dimension}={value}")
    return keys
