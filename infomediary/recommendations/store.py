"""Storing and loading a supplier's trained recommenders (item data only; see `models`).

Loaded models are kept in a small in-process LRU keyed by supplier and training time: a request reads only
the training time (one small prebuilt query, no payload bytes, no ORM objects) and pays the reading and
deserialisation of the payloads once per training, not once per call. The cache holds item data only
(item ids, similarities, item factors, popular lists), never anything about a customer; a new training
changes the key (and evicts the supplier's entries in this process), so a stale model is never served.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.nearest_neighbours import ItemItemRecommender, NearestNeighboursScorer
from scipy import sparse
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.recommendations.models import RecommenderModelRow

ITEM_ITEM = "item_item"
ALS = "als"
POPULARITY = "popularity"
_CACHE_SIZE = 32


@dataclass
class Models:
    """A supplier's recommenders as the request path uses them."""

    items: list[str]
    index: dict[str, int]
    trained_at: datetime
    item_item: ItemItemRecommender | None = None
    als: AlternatingLeastSquares | None = None
    popular: list[str] = field(default_factory=list)
    segments: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def save(
    session: WriteSession,
    supplier_id: str,
    *,
    items: list[str],
    trained_at: datetime,
    item_item: ItemItemRecommender | None,
    als: AlternatingLeastSquares | None,
    popular: list[str],
    segments: dict[str, list[str]],
    meta: dict[str, Any],
) -> None:
    """Replace the supplier's models with these (one transaction: a reader sees the old set or the new)."""
    session.execute(delete(RecommenderModelRow).where(RecommenderModelRow.supplier_id == supplier_id))
    listed = json.dumps(items)
    rows = [
        RecommenderModelRow(
            supplier_id=supplier_id,
            kind=POPULARITY,
            items=listed,
            payload=json.dumps({"popular": popular, "segments": segments}).encode(),
            meta=json.dumps(meta, sort_keys=True),
            trained_at=trained_at,
        )
    ]
    if item_item is not None:
        buffer = io.BytesIO()
        sparse.save_npz(buffer, item_item.similarity.tocsr(), compressed=True)
        rows.append(
            RecommenderModelRow(
                supplier_id=supplier_id, kind=ITEM_ITEM, items=listed, payload=buffer.getvalue(),
                meta=json.dumps({"K": item_item.K}), trained_at=trained_at,
            )
        )  # fmt: skip
    if als is not None:
        buffer = io.BytesIO()
        # Item factors only: user factors describe customers and are never stored.
        np.save(buffer, np.asarray(als.item_factors, dtype=np.float32), allow_pickle=False)
        rows.append(
            RecommenderModelRow(
                supplier_id=supplier_id,
                kind=ALS,
                items=listed,
                payload=buffer.getvalue(),
                meta=json.dumps(
                    {"factors": als.factors, "regularization": als.regularization, "alpha": als.alpha}
                ),
                trained_at=trained_at,
            )
        )
    session.add_all(rows)
    session.flush()
    _forget(supplier_id)


_cache: OrderedDict[tuple[str, datetime], Models] = OrderedDict()
_lock = threading.Lock()


def _forget(supplier_id: str) -> None:
    with _lock:
        for key in [k for k in _cache if k[0] == supplier_id]:
            del _cache[key]


# Built once: on the request path this is the only query when the models are cached.
_TRAINED_AT = select(RecommenderModelRow.trained_at).where(
    RecommenderModelRow.supplier_id == bindparam("supplier_id"), RecommenderModelRow.kind == POPULARITY
)


def load(session: Session, supplier_id: str) -> Models | None:
    """The supplier's trained models, or None before the first training."""
    trained_at = session.execute(_TRAINED_AT, {"supplier_id": supplier_id}).scalar_one_or_none()
    if trained_at is None:
        return None
    with _lock:
        cached = _cache.get((supplier_id, trained_at))
        if cached is not None:
            _cache.move_to_end((supplier_id, trained_at))
            return cached
    rows = {
        r.kind: r
        for r in session.scalars(
            select(RecommenderModelRow).where(RecommenderModelRow.supplier_id == supplier_id)
        )
    }
    base = rows.get(POPULARITY)
    if base is None:
        return None
    # Keyed by what was read with the payloads (a training may have committed in between, on PostgreSQL).
    key = (supplier_id, base.trained_at)
    items: list[str] = json.loads(base.items)
    payload = json.loads(base.payload)
    models = Models(
        items=items,
        index={item: i for i, item in enumerate(items)},
        trained_at=base.trained_at,
        popular=payload["popular"],
        segments=payload["segments"],
        meta=json.loads(base.meta),
    )
    if ITEM_ITEM in rows:
        knn = ItemItemRecommender(K=json.loads(rows[ITEM_ITEM].meta)["K"], num_threads=1)
        knn.similarity = sparse.load_npz(io.BytesIO(rows[ITEM_ITEM].payload)).tocsr()
        knn.scorer = NearestNeighboursScorer(knn.similarity)
        models.item_item = knn
    if ALS in rows:
        meta = json.loads(rows[ALS].meta)
        als = AlternatingLeastSquares(
            factors=meta["factors"], regularization=meta["regularization"], alpha=meta["alpha"], num_threads=1
        )
        als.item_factors = np.load(io.BytesIO(rows[ALS].payload), allow_pickle=False)
        # A one-row placeholder: each request recalculates its own customer's vector and never reads this.
        als.user_factors = np.zeros((1, als.item_factors.shape[1]), dtype=np.float32)
        models.als = als
    with _lock:
        _cache[key] = models
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return models
