"""The customer accepted an offer: paid once, a grant of identity if it releases it (after the customer's
password, again), and the supplier told (the `offer.accepted` event), if the customer's consent permits it.

An identity release hands the supplier her stable pseudonym with her identity, so it is recorded as handed
over: her "who knows me" lists the supplier, and the supplier's later requests and an auditor's penalty
naming her by it resolve (issue 19). Accepting lets the supplier write to her: it gets her relay address
(issue 20), made here if she has none for it yet."""

from __future__ import annotations

from consent.vocabulary import Category, Purpose
from infomediary.aliases import service as aliases
from infomediary.customers import service as customers
from infomediary.database import WriteSession
from infomediary.flows.consent_changed import records_left
from infomediary.offers import received
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from infomediary.webhooks import outbox


def accept_offer(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    offer_id: str,
    *,
    release_identity: bool,
    password: str | None,
    client_address: str,
    code: str | None = None,
) -> received.InboxOffer:
    def reauthenticate() -> None:
        customers.reauthenticate(
            session, runtime, customer_id, password=password, code=code, client_address=client_address
        )

    offer, accepted = received.accept(
        session,
        runtime,
        customer_id,
        offer_id,
        release_identity=release_identity,
        reauthenticate=reauthenticate,
        on_leaving=records_left,
    )
    if accepted and release_identity:
        pseudonyms.issue(session, runtime, offer.supplier_id, customer_id)
    if accepted:
        aliases.ensure(session, runtime, customer_id, offer.supplier_id)
        assert offer.accepted_at is not None
        outbox.emit(
            session,
            runtime,
            event_type=outbox.OFFER_ACCEPTED,
            customer_id=customer_id,
            purpose=Purpose(offer.purpose),
            categories=[Category.ACTIVITY],
            data={"offer_id": offer.id},
            supplier_ids=[offer.supplier_id],
            now=offer.accepted_at,
        )
    return offer
