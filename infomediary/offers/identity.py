"""Identity released through an accepted offer: name and a relay address, to that offer's supplier only.

The address handed over is her relay address for this supplier (`aliases`), never her own: it reaches her
only through the relay, which decides every message again, and she can switch it off.

The release is opt-in twice over: the customer confirms it when accepting (which records a grant naming the
supplier), and every read by the supplier decides again with `decide_for` (logged), so a customer who later
withdraws that grant is no longer in the next response.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.aliases import service as aliases
from infomediary.consents.decision_point import decide_for, supplier_query
from infomediary.database import WriteSession, utcnow
from infomediary.offers.models import OfferDeliveryRow, OfferRow
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.profiles import service as profiles
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime

# What an identity-releasing offer hands over on acceptance: name (identity) and a way to write to her
# (contact), which is her relay address, not her email.
CATEGORIES = frozenset({Category.IDENTITY, Category.CONTACT})
FIELDS = ("given_name", "family_name")


@dataclass(frozen=True)
class ReleasedIdentity:
    """A customer's identity as the supplier receives it, keyed by the supplier's own pseudonym; `email` is
    her relay address for the supplier."""

    pseudonym: str
    given_name: str | None
    family_name: str | None
    email: str | None


def released_to_supplier(session: WriteSession, runtime: Runtime, offer: OfferRow) -> list[ReleasedIdentity]:
    """Identities of this offer's accepting customers whose consent still permits it (decided now)."""
    accepted = session.scalars(
        select(OfferDeliveryRow.customer_id)
        .where(OfferDeliveryRow.offer_id == offer.id, OfferDeliveryRow.identity_released.is_(True))
        .order_by(OfferDeliveryRow.id)
    ).all()
    if not accepted:
        return []
    query = supplier_query(
        session,
        supplier_id=offer.supplier_id,
        purpose=Purpose(offer.purpose),
        categories=CATEGORIES,
        release_kind=ReleaseKind.IDENTITY_RELEASE,
        now=utcnow(),
    )
    permitted = [cid for cid in accepted if decide_for(session, runtime, cid, query).permitted]
    if not permitted:
        return []
    values = profiles.values_of(session, runtime, permitted, FIELDS)
    released = []
    for customer_id in permitted:
        mine = values.get(customer_id, {})
        released.append(
            ReleasedIdentity(
                pseudonym=pseudonyms.pseudonym(runtime, offer.supplier_id, customer_id),
                given_name=_text(mine.get("given_name")),
                family_name=_text(mine.get("family_name")),
                email=aliases.address_for(session, runtime, customer_id, offer.supplier_id),
            )
        )
    shown = sorted(c.value for c in CATEGORIES)
    log_append(
        session,
        {
            "kind": kinds.RELEASE,
            "supplier_id": offer.supplier_id,
            "purpose": offer.purpose,
            "categories": shown,
            "release": {
                "kind": ReleaseKind.IDENTITY_RELEASE.value,
                "categories": shown,
                "count": len(released),
                "epsilon_milli": 0,
            },
            "details": {"offer_id": offer.id},
        },
    )
    return released


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
