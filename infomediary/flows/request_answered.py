"""The customer answered a supplier's request: accepting grants what it asked; either way the requesting
supplier is told (the `request.answered` event), if the customer's consent permits it. Accepting lets the
supplier write to her: it gets her relay address (issue 20), made here if she has none for it yet."""

from __future__ import annotations

from consent.vocabulary import Category
from infomediary.aliases import service as aliases
from infomediary.consents import service as consents
from infomediary.consents import supplier_requests
from infomediary.customers import service as customers
from infomediary.database import WriteSession
from infomediary.flows.consent_changed import records_left
from infomediary.runtime import Runtime
from infomediary.webhooks import outbox


def accept_request(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    request_id: str,
    *,
    password: str | None = None,
    client_address: str = "",
    code: str | None = None,
) -> tuple[supplier_requests.RequestView, list[consents.Change]]:
    """Accept a request; one that asks to release her identity needs her password again (a stolen session
    must not hand her name and email to a supplier), checked before anything is granted."""
    if supplier_requests.asks_identity(session, customer_id, request_id):
        customers.reauthenticate(
            session, runtime, customer_id, password=password, code=code, client_address=client_address
        )
    view, changes = supplier_requests.accept(
        session, runtime, customer_id, request_id, on_leaving=records_left
    )
    aliases.ensure(session, runtime, customer_id, view.supplier_id)
    _tell_supplier(session, runtime, customer_id, view)
    return view, changes


def refuse_request(
    session: WriteSession, runtime: Runtime, customer_id: str, request_id: str
) -> supplier_requests.RequestView:
    view = supplier_requests.refuse(session, customer_id, request_id)
    _tell_supplier(session, runtime, customer_id, view)
    return view


def _tell_supplier(
    session: WriteSession, runtime: Runtime, customer_id: str, view: supplier_requests.RequestView
) -> None:
    """The business event, for the requesting supplier only, as of the answer."""
    assert view.answered_at is not None
    outbox.emit(
        session,
        runtime,
        event_type=outbox.REQUEST_ANSWERED,
        customer_id=customer_id,
        purpose=view.purpose,
        # What the request asked for ("*", every category, is decided as ordinary activity data): an
        # acceptance grants exactly that, so the event follows it; a refusal is told only to a supplier the
        # customer had already granted those categories.
        categories=[Category(c) for c in view.categories if c != "*"] or [Category.ACTIVITY],
        data={"request_id": view.id, "answer": view.status},
        supplier_ids=[view.supplier_id],
        now=view.answered_at,
    )
