"""A customer's interactions with one supplier's catalog, read from the vault only as consent permits.

Views, cart changes and ratings are `activity`; purchases are `purchases`. Each category is decided
separately for purpose personalisation, and only the kinds of the permitted categories are decrypted.
Interactions with items outside the supplier's catalog are dropped at once: another supplier's items never
shape this supplier's recommendations, and nothing of them leaves this function.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from consent.decision import Decision
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents.decision_point import decide_each_with_entries, supplier_query
from infomediary.profiles import activity, datakeys, repository
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.runtime import Runtime

PURPOSE = Purpose.PERSONALISATION
# The form a personalised answer leaves the broker in: items for one pseudonym, like a one-row slice.
RELEASE_KIND = ReleaseKind.PSEUDONYMOUS_SLICE
INTERACTION_CATEGORIES = (Category.ACTIVITY, Category.PURCHASES)
KINDS: dict[Category, tuple[str, ...]] = {
    Category.ACTIVITY: ("view", "cart_add", "cart_remove", "rating"),
    Category.PURCHASES: ("purchase",),
}
# Implicit-feedback confidence per interaction; a rating counts its value (1-5).
WEIGHTS = {"view": 1.0, "cart_add": 2.0, "purchase": 4.0}


@dataclass
class History:
    """Confidence per catalog item, the kinds of interaction behind it, and the cart as it stands."""

    weights: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, set[str]] = field(default_factory=dict)
    basket: dict[str, int] = field(default_factory=dict)

    def add(self, item: str, kind: str, weight: float) -> None:
        self.weights[item] = self.weights.get(item, 0.0) + weight
        self.kinds.setdefault(item, set()).add(kind)


def preview(
    session: Session,
    runtime: Runtime,
    supplier_id: str,
    customer_id: str,
    categories: Iterable[Category],
) -> dict[Category, Decision]:
    """The personalisation decision per category, not logged: the customer's own preview, which only reads."""
    wanted = list(dict.fromkeys(categories))
    query = supplier_query(
        session, supplier_id=supplier_id, purpose=PURPOSE, categories=wanted, release_kind=RELEASE_KIND
    )
    decisions, _entries = decide_each_with_entries(session, runtime, customer_id, query, wanted)
    return decisions


def decide_with_entries(
    session: Session, runtime: Runtime, supplier_id: str, customer_id: str, categories: Iterable[Category]
) -> tuple[dict[Category, Decision], list[dict[str, Any]]]:
    """`decide` with the log entries handed back instead of appended: the caller appends them with its
    release entry in one `append_many`, in this transaction, before it uses any decision."""
    wanted = list(dict.fromkeys(categories))
    query = supplier_query(
        session, supplier_id=supplier_id, purpose=PURPOSE, categories=wanted, release_kind=RELEASE_KIND
    )
    return decide_each_with_entries(session, runtime, customer_id, query, wanted)


def read(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    catalog: Collection[str],
    categories: Collection[Category],
    *,
    excluded: Collection[str] = (),
    cipher: CustomerCipher | None = None,
) -> History:
    """Decrypt the customer's interactions of the permitted `categories` with items of `catalog`.

    Only for callers that hold a permit for these categories (this function decides nothing).
    """
    history = History()
    if not categories:
        return history
    cipher = cipher or datakeys.cipher_for(session, runtime, customer_id)
    kinds = [kind for category in categories for kind in KINDS.get(category, ())]
    for row in repository.records_of_kinds(session, customer_id, kinds):
        _take(history, activity.open_record(cipher, row).record, catalog, excluded)
    history.basket = {item: qty for item, qty in history.basket.items() if qty > 0}
    return history


def _take(
    history: History, record: dict[str, object], catalog: Collection[str], excluded: Collection[str]
) -> None:
    kind = str(record["kind"])
    if kind == "purchase":
        for line in record.get("items", []) or []:  # type: ignore[attr-defined]
            item = line["item"]
            if item in catalog and item not in excluded:
                history.add(item, kind, WEIGHTS[kind])
        return
    item = record.get("item")
    if not isinstance(item, str) or item not in catalog:
        return
    quantity = int(record.get("quantity", 1))  # type: ignore[call-overload]
    if kind == "cart_add":
        history.basket[item] = history.basket.get(item, 0) + quantity
    elif kind == "cart_remove":
        history.basket[item] = history.basket.get(item, 0) - quantity
        return
    if item in excluded:
        return
    weight = float(record["value"]) if kind == "rating" else WEIGHTS[kind]  # type: ignore[arg-type]
    history.add(item, kind, weight)
