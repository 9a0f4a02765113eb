"""Ranking for one customer: pure functions over loaded models and the customer's own history.

The customer's vector is recomputed from their history on every call (ALS `recalculate_user`; item-to-item
needs none), so no user factors exist outside this call. Scores become rank scores (1 / (1 + rank)) before
rules boost them, so a boost means the same whatever the model's score scale.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from infomediary.recommendations.store import Models
from infomediary.rules.evaluate import Effects

ALGORITHMS = ("als", "item_item")


def one_blas_thread_per_process() -> None:
    """Limit BLAS to one thread in this process, for good: what a serving process calls once at start.

    A serving process is one event loop on one core. Scoring one customer (ALS `recalculate_user`) is a few
    small BLAS calls, and OpenBLAS's own pool (one thread per core by default) keeps its threads spinning
    after each, on the cores the event loops and PostgreSQL need (implicit warns of it at load).
    """
    threadpool_limits(1, "blas")


@dataclass(frozen=True)
class Candidate:
    item: str
    score: float
    source: str  # "als", "item_item", "popular", "rule"


def user_row(models: Models, weights: Mapping[str, float]) -> sparse.csr_matrix:
    index = models.index
    cols = sorted(index[i] for i in weights if i in index)
    values = np.asarray([weights[models.items[c]] for c in cols], dtype=np.float32)
    # Built from its CSR arrays (sorted, unique columns): the COO form costs a conversion on every request.
    return sparse.csr_matrix(
        (values, np.asarray(cols, dtype=np.int32), np.asarray([0, len(cols)], dtype=np.int32)),
        shape=(1, len(models.items)),
    )


def collaborative(models: Models, weights: Mapping[str, float], pool: int, algorithm: str) -> list[Candidate]:
    """Unseen items ranked by the chosen recommender; empty without a model or a usable history."""
    row = user_row(models, weights)
    if row.nnz == 0:
        return []
    pool = min(pool, len(models.items) - row.nnz)
    if pool <= 0:
        return []
    if algorithm == "als" and models.als is not None:
        ids, _ = models.als.recommend(0, row, N=pool, filter_already_liked_items=True, recalculate_user=True)
    elif models.item_item is not None:
        algorithm = "item_item"
        ids, scores = models.item_item.recommend(0, row, N=pool, filter_already_liked_items=True)
        ids = ids[scores > 0]
    else:
        return []
    return [Candidate(models.items[int(i)], 1.0 / (1 + rank), algorithm) for rank, i in enumerate(ids)]


def popular(models: Models, segments: Sequence[str], seen: Collection[str], pool: int) -> list[Candidate]:
    """Cold start: the customer's segments' popular items interleaved, then the global list; unseen only."""
    lists = [models.segments[s] for s in segments if s in models.segments] + [models.popular]
    out: list[str] = []
    taken = set(seen)
    for position in range(max((len(x) for x in lists), default=0)):
        for ranked in lists:
            if position < len(ranked) and ranked[position] not in taken:
                taken.add(ranked[position])
                out.append(ranked[position])
        if len(out) >= pool:
            break
    return [Candidate(item, 1.0 / (1 + rank), "popular") for rank, item in enumerate(out[:pool])]


def apply_rules(
    candidates: list[Candidate], effects: Effects, categories: Mapping[str, Collection[str]], n: int
) -> list[Candidate]:
    """Boost by catalog category, put rule-shown items first, keep only items of `categories`."""
    boosted = []
    for c in candidates:
        if c.item not in categories:
            continue
        factor = 1.0
        for category in categories[c.item]:
            factor *= effects.boosts.get(category, 1.0)
        boosted.append(Candidate(c.item, c.score * factor, c.source))
    boosted.sort(key=lambda c: (-c.score, c.item))
    shown = [Candidate(item, 1.0, "rule") for item in effects.show if item in categories]
    pinned = {c.item for c in shown}
    return (shown + [c for c in boosted if c.item not in pinned])[:n]
