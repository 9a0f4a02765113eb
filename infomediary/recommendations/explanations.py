"""What drives a customer's recommendations at one supplier, shown to that customer and editable by them.

This is the customer reading their own data: decisions are previewed (`evaluate`, not logged as a
supplier's use) and nothing leaves for the supplier. "Because you viewed ..." comes from the item-to-item
similarities (or, without them, from the ALS model's own explanation of a score).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.products import service as products
from infomediary.pseudonyms.service import SupplierNotKnown
from infomediary.recommendations import exclusions, history, ranking, store
from infomediary.recommendations.errors import InvalidExclusion
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier

BECAUSE = 3


@dataclass(frozen=True)
class Driver:
    item: str
    title: str
    kinds: list[str]
    excluded: bool


@dataclass(frozen=True)
class Explained:
    item: str
    title: str
    because: list[str]


@dataclass(frozen=True)
class Explanation:
    supplier_id: str
    personalisation: bool
    drivers: list[Driver]
    recommendations: list[Explained]


def explain(
    session: Session, runtime: Runtime, customer_id: str, supplier_id: str, n: int = 10
) -> Explanation:
    if session.get(Supplier, supplier_id) is None:
        raise SupplierNotKnown()
    decisions = history.preview(session, runtime, supplier_id, customer_id, history.INTERACTION_CATEGORIES)
    permitted = [c for c, d in decisions.items() if d.permitted]
    models = store.load(session, supplier_id)
    known = models.index if models is not None else set(products.items_of(session, supplier_id))
    # The customer sees every item of theirs that could drive recommendations, excluded ones marked.
    everything = history.read(session, runtime, customer_id, known, permitted)
    excluded = exclusions.read(session, runtime, customer_id, supplier_id)
    used = {i: w for i, w in everything.weights.items() if i not in excluded}
    explained: list[Explained] = []
    if models is not None and permitted:
        for candidate in ranking.collaborative(models, used, n, "item_item" if models.item_item else "als"):
            explained.append(Explained(candidate.item, "", _because(models, used, candidate.item)))
    titles = products.items_of(session, supplier_id, [*everything.weights, *(e.item for e in explained)])
    return Explanation(
        supplier_id=supplier_id,
        personalisation=bool(permitted),
        drivers=[
            Driver(item, _title(titles, item), sorted(everything.kinds[item]), item in excluded)
            for item in sorted(everything.weights)
        ],
        recommendations=[
            Explained(e.item, _title(titles, e.item), [_title(titles, b) for b in e.because])
            for e in explained
        ],
    )


def _title(titles: dict[str, products.ItemView], item: str) -> str:
    view = titles.get(item)
    return view.title if view is not None else item


def _because(models: store.Models, used: dict[str, float], item: str) -> list[str]:
    target = models.index[item]
    if models.item_item is not None:
        row = models.item_item.similarity[target]
        scores = {models.items[int(j)]: float(v) for j, v in zip(row.indices, row.data, strict=True)}
        ranked = sorted((i for i in used if scores.get(i, 0) > 0), key=lambda i: (-scores[i], i))
        return ranked[:BECAUSE]
    if models.als is not None:
        _, contributions, _ = models.als.explain(0, ranking.user_row(models, used), target, N=BECAUSE)
        return [models.items[int(j)] for j, _ in contributions]
    return []


def set_exclusions(
    session: WriteSession, runtime: Runtime, customer_id: str, supplier_id: str, items: Sequence[str]
) -> Explanation:
    """Replace the items removed from what drives recommendations here; returns the new explanation."""
    if session.get(Supplier, supplier_id) is None:
        raise SupplierNotKnown()
    if len(set(items)) > exclusions.MAX_EXCLUSIONS:
        raise InvalidExclusion(f"at most {exclusions.MAX_EXCLUSIONS} items")
    exclusions.write(session, runtime, customer_id, supplier_id, items)
    return explain(session, runtime, customer_id, supplier_id)
