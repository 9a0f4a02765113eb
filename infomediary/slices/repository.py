"""Queries of the slices domain: the consent-gated candidate customers of a slice."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.decision import SupplierQuery
from infomediary.consents import repository as consents
from infomediary.consents.set_filter import NOW, PermitGate
from infomediary.profiles.models import CustomerKey

# The consent gate of every slice, built once per query shape and policy (see `PermitGate`).
_GATE = PermitGate(CustomerKey.customer_id)


def candidates(session: Session, query: SupplierQuery, limit: int) -> Sequence[str]:
    """Customers whom the decision permits `query`, in id order, at most `limit`.

    Gated over `customer_keys`: a customer without a data key (erased) has nothing to release.
    """
    policy = consents.policy_in_force(session, query.supplier_id, query.now)
    return session.scalars(
        select(CustomerKey.customer_id)
        .where(_GATE(query, policy))
        .order_by(CustomerKey.customer_id)
        .limit(limit),
        {NOW: query.now},
    ).all()
