"""Turning the consent services' values into the consumer's response bodies, with plain-words labels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from api.me.consent_schemas import ConsentRead, InboxItem, Label, PolicySummary, SupplierRef
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentRecord, effective_state
from consent.vocabulary import CATEGORIES, PURPOSES, Category, Purpose
from infomediary.consents import policies, service
from infomediary.consents.supplier_requests import RequestView


def purpose_label(purpose: Purpose) -> Label:
    return Label(key=purpose.value, label=PURPOSES[purpose].label)


def category_label(category: Category) -> Label:
    return Label(key=category.value, label=CATEGORIES[category].label)


def _summary(policy: policies.PolicyView | None) -> PolicySummary | None:
    if policy is None:
        return None
    return PolicySummary(
        version=policy.version,
        purposes=[purpose_label(p) for p in policy.purposes],
        categories=[category_label(c) for c in policy.categories],
        policy_url=policy.policy_url,
        published_at=policy.published_at,
    )


class Suppliers:
    """Names and current policies of the suppliers a page mentions, loaded once per page."""

    def __init__(self, session: Session, supplier_ids: Iterable[str]) -> None:
        ids = set(supplier_ids)
        self.names = service.supplier_names(session, ids)
        self.policies = policies.current_views(session, ids)

    def ref(self, supplier_id: str) -> SupplierRef:
        return SupplierRef(
            id=supplier_id,
            name=self.names.get(supplier_id, supplier_id),
            policy=_summary(self.policies.get(supplier_id)),
        )

    def floor(self, supplier_id: str) -> int:
        policy = self.policies.get(supplier_id)
        return 1 if policy is None else policy.consent_floor_version


def consents(session: Session, records: Sequence[ConsentRecord], now: datetime) -> list[ConsentRead]:
    suppliers = Suppliers(session, (r.supplier for r in records if isinstance(r.supplier, str)))
    out = []
    for record in records:
        named = record.supplier if record.supplier is not ALL_SUPPLIERS else None
        floor = suppliers.floor(named) if isinstance(named, str) else 1
        out.append(
            ConsentRead(
                id=record.record_id,
                supplier=suppliers.ref(named) if isinstance(named, str) else None,
                purpose=purpose_label(record.purpose),
                category=None if record.category is ALL_CATEGORIES else category_label(record.category),
                state=effective_state(record, now, floor).value,
                expires_at=record.expires_at,
                price=record.price,
                policy_version=record.policy_version,
                created_at=record.created_at,
                updated_at=record.updated_at,
            )
        )
    return out


def inbox_items(session: Session, views: Sequence[RequestView]) -> list[InboxItem]:
    suppliers = Suppliers(session, (v.supplier_id for v in views))
    return [
        InboxItem(
            id=v.id,
            supplier=suppliers.ref(v.supplier_id),
            origin=v.origin,
            purpose=purpose_label(v.purpose),
            categories=[
                Label(key="*", label="All your ordinary data") if c == "*" else category_label(Category(c))
                for c in v.categories
            ],
            release_kind=v.release_kind,
            price_offered=v.price_offered,
            expires_at=v.expires_at,
            status=v.status,
            created_at=v.created_at,
        )
        for v in views
    ]
