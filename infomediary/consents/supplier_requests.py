"""Supplier requests, the requests half of the customer's inbox. A supplier asks a pseudonymous customer
for categories for a purpose, at a price, until an expiry; standing terms answer at once where they decide,
else the customer accepts (which grants the consents, with a receipt) or refuses. Widened policies put
re-asks here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.decision import Reason
from consent.records import ConsentState
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import service
from infomediary.consents.decision_point import decide_for, supplier_query
from infomediary.consents.declared_use import require_declared
from infomediary.consents.errors import (
    InvalidConsentInput,
    RequestNotFound,
    RequestNotPending,
    SlicePseudonymAlreadyAsked,
)
from infomediary.consents.models import SupplierRequestRow
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier

PENDING: Final = "pending"
ACCEPTED: Final = "accepted"
REFUSED: Final = "refused"
REFUSED_BY_TERMS: Final = "refused_by_terms"
EXPIRED: Final = "expired"
ORIGIN_SUPPLIER: Final = "supplier"
ORIGIN_POLICY_CHANGE: Final = "policy_change"

# Denials that come from the customer's own standing rules: these answer a request without asking.
TERM_REASONS: Final = frozenset(
    {Reason.PROCESSING_RESTRICTED, Reason.NEVER_PURPOSE, Reason.SUPPLIER_HAS_STRIKES, Reason.NEVER_CATEGORY}
)


@dataclass(frozen=True)
class RequestView:
    id: str
    supplier_id: str
    supplier_name: str
    origin: str
    purpose: Purpose
    categories: list[str]
    release_kind: ReleaseKind
    price_offered: int
    policy_version: int
    expires_at: datetime
    status: str
    created_at: datetime
    answered_at: datetime | None
    # The pseudonym the supplier named the customer by; None for a re-ask (see `SupplierRequestRow`).
    pseudonym: str | None = None


# What the request's pseudonym is sealed and tagged under (`Vault.seal_bound`, `Vault.tag_bound`).
_PSEUDONYM_LABEL = "supplier-request.pseudonym"


def _status(row: SupplierRequestRow, now: datetime) -> str:
    # A lapsed request needs no job to expire it: it reads as expired from its expiry on.
    return EXPIRED if row.status == PENDING and row.expires_at <= now else row.status


def _view(
    row: SupplierRequestRow, supplier_name: str, now: datetime, *, pseudonym: str | None = None
) -> RequestView:
    return RequestView(
        id=row.id,
        supplier_id=row.supplier_id,
        supplier_name=supplier_name,
        origin=row.origin,
        purpose=Purpose(row.purpose),
        categories=list(row.categories),
        release_kind=ReleaseKind(row.release_kind),
        price_offered=row.price_offered,
        policy_version=row.policy_version,
        expires_at=row.expires_at,
        status=_status(row, now),
        created_at=row.created_at,
        answered_at=row.answered_at,
        pseudonym=pseudonym,
    )


def create(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    *,
    pseudonym: str,
    purpose: Purpose,
    categories: frozenset[Category],
    release_kind: ReleaseKind,
    price_offered: int,
    expires_at: datetime,
    now: datetime | None = None,
) -> RequestView:
    """A supplier's request; decided at once (and logged), refused at once when a standing term decides."""
    now = now or utcnow()
    if expires_at <= now:
        raise InvalidConsentInput("expires_at must be in the future")
    # Checked before the pseudonym is resolved: the answer says nothing about any customer.
    policy = require_declared(
        session,
        runtime.settings,
        supplier_id,
        purpose=purpose,
        categories=categories,
        release_kind=release_kind,
        now=now,
    )
    named = pseudonyms.resolve_named(session, runtime, supplier_id, pseudonym)
    customer_id = named.customer_id
    # The pseudonym is kept only under her erasure key: sealed, to echo back to the supplier, and as a tag
    # to find a second request naming it. A plain copy beside her internal id would tie it to every row of
    # hers in a database backup long after her erasure (issue 18).
    tag = runtime.vault.tag_bound(customer_id, _PSEUDONYM_LABEL, pseudonym.encode())
    if named.from_release and _asked_before(session, supplier_id, tag):
        # One request per slice pseudonym: each answers at once when her standing terms refuse it, so
        # several, with purposes and prices varied, would fingerprint her terms under each release's
        # pseudonym, and matching fingerprints would join the releases again. Her stable pseudonym (a
        # relationship she chose) may be asked any number of times.
        raise SlicePseudonymAlreadyAsked()
    query = supplier_query(
        session,
        supplier_id=supplier_id,
        purpose=purpose,
        categories=categories,
        release_kind=release_kind,
        offered_price=price_offered,
        now=now,
    )
    decision = decide_for(session, runtime, customer_id, query)
    by_terms = not decision.permitted and (
        decision.reason in TERM_REASONS
        or (decision.reason is Reason.PRICE_TOO_LOW and bool(decision.term_ids))
    )
    row = SupplierRequestRow(
        id=new_id("req"),
        supplier_id=supplier_id,
        customer_id=customer_id,
        origin=ORIGIN_SUPPLIER,
        purpose=purpose.value,
        categories=[c.value for c in query.ordered_categories],
        release_kind=release_kind.value,
        price_offered=price_offered,
        policy_version=policy.version,
        expires_at=expires_at,
        status=REFUSED_BY_TERMS if by_terms else PENDING,
        created_at=now,
        answered_at=now if by_terms else None,
        pseudonym_sealed=runtime.vault.seal_bound(customer_id, _PSEUDONYM_LABEL, pseudonym.encode()),
        pseudonym_tag=tag,
    )
    session.add(row)
    session.flush()
    return _view(row, _supplier_name(session, supplier_id), now, pseudonym=pseudonym)


def _asked_before(session: Session, supplier_id: str, tag: bytes) -> bool:
    asked = select(SupplierRequestRow.id).where(
        SupplierRequestRow.supplier_id == supplier_id, SupplierRequestRow.pseudonym_tag == tag
    )
    return session.scalar(asked.limit(1)) is not None


def _supplier_name(session: Session, supplier_id: str) -> str:
    return session.scalar(select(Supplier.name).where(Supplier.id == supplier_id)) or supplier_id


def for_supplier(session: Session, runtime: Runtime, supplier_id: str, request_id: str) -> RequestView:
    """The supplier's own request, with the pseudonym it named the customer by; any other request is not
    found."""
    row = session.get(SupplierRequestRow, request_id)
    if row is None or row.supplier_id != supplier_id or row.origin != ORIGIN_SUPPLIER:
        raise RequestNotFound()
    if row.pseudonym_sealed is not None:
        named = runtime.vault.open_bound(row.customer_id, _PSEUDONYM_LABEL, row.pseudonym_sealed).decode()
    else:
        named = pseudonyms.pseudonym(runtime, supplier_id, row.customer_id)
    return _view(row, _supplier_name(session, supplier_id), utcnow(), pseudonym=named)


def pending(
    session: Session, customer_id: str, *, cursor: str | None, limit: int
) -> tuple[list[RequestView], str | None]:
    """The customer's pending, unexpired requests, one page; and the next cursor."""
    now = utcnow()
    query = (
        select(SupplierRequestRow, Supplier.name)
        .join(Supplier, Supplier.id == SupplierRequestRow.supplier_id)
        .where(
            SupplierRequestRow.customer_id == customer_id,
            SupplierRequestRow.status == PENDING,
            SupplierRequestRow.expires_at > now,
        )
    )
    if cursor:
        query = query.where(SupplierRequestRow.id > cursor)
    rows = session.execute(query.order_by(SupplierRequestRow.id).limit(limit + 1)).all()
    page = [_view(r, name, now) for r, name in rows[:limit]]
    return page, (page[-1].id if len(rows) > limit else None)


def _own_pending(session: Session, customer_id: str, request_id: str, now: datetime) -> SupplierRequestRow:
    row = session.get(SupplierRequestRow, request_id)
    if row is None or row.customer_id != customer_id:
        raise RequestNotFound()
    if _status(row, now) != PENDING:
        raise RequestNotPending()
    return row


def accept(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    request_id: str,
    *,
    on_leaving: service.OnLeaving,
) -> tuple[RequestView, list[service.Change]]:
    """Grant what the request asks, under the supplier's current policy, with one receipt.

    The supplier hears of the answer through `flows.request_answered`, as of `answered_at`.
    """
    now = utcnow()
    row = _own_pending(session, customer_id, request_id, now)
    changes = service.answer(
        session,
        runtime,
        customer_id,
        state=ConsentState.GIVEN,
        supplier_id=row.supplier_id,
        purpose=Purpose(row.purpose),
        categories=[None if c == "*" else Category(c) for c in row.categories],
        price=row.price_offered or None,
        reason=f"accepted request {row.id}",
        now=now,
        on_leaving=on_leaving,
    )
    row.status, row.answered_at = ACCEPTED, now
    session.flush()
    return _view(row, _supplier_name(session, row.supplier_id), now), changes


def asks_identity(session: Session, customer_id: str, request_id: str) -> bool:
    """Whether the customer's own pending request asks to release her identity (any other: not found)."""
    row = _own_pending(session, customer_id, request_id, utcnow())
    return row.release_kind == ReleaseKind.IDENTITY_RELEASE.value


def refuse(session: WriteSession, customer_id: str, request_id: str) -> RequestView:
    """Decline the request; no consent is recorded (declining an offer is not objecting to every use)."""
    now = utcnow()
    row = _own_pending(session, customer_id, request_id, now)
    row.status, row.answered_at = REFUSED, now
    session.flush()
    return _view(row, _supplier_name(session, row.supplier_id), now)
