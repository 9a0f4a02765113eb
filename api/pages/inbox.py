"""The inbox: supplier requests (accept, refuse) and offers (read, accept, dismiss, report as unwanted).
Accepting anything that would tell a supplier who the customer is goes through a confirmation page first;
for an offer, that page asks for the customer's password again.
The services are the ones behind `/v1/me/inbox` and `/v1/me/offers`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from api.deps import ClientAddressDep, RuntimeDep, SessionDep, WriteSessionDep
from api.me import consent_bodies
from api.pages.auth import PageConsumer
from api.pages.reauth import REFUSALS, Code, Password, needs_code, refused
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from consent.vocabulary import PURPOSES, ReleaseKind
from infomediary.consents import supplier_requests
from infomediary.consents.errors import RequestNotFound
from infomediary.flows import offer_accepted, request_answered
from infomediary.offers import received, reports
from infomediary.offers.errors import OfferNotFound
from infomediary.text import Id, Text

router = page_router()
ItemId = Annotated[Id, Path()]
Confirm = Annotated[Text, Form(max_length=8)]
INBOX_LIMIT = 100


def _pending(session: SessionDep, customer_id: str) -> list[supplier_requests.RequestView]:
    views, _ = supplier_requests.pending(session, customer_id, cursor=None, limit=INBOX_LIMIT)
    return views


@router.get("/inbox")
def read_inbox(
    request: Request, consumer: PageConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> Response:
    return render(
        request,
        "inbox.html",
        {
            "consumer": consumer,
            "requests": consent_bodies.inbox_items(session, _pending(session, consumer.customer_id)),
            "offers": received.list_offers(session, runtime, consumer.customer_id),
            "purpose_labels": {p.value: spec.label for p, spec in PURPOSES.items()},
        },
    )


@router.post("/inbox/requests/{request_id}/accept")
def accept_request(
    request: Request,
    request_id: ItemId,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    confirm: Confirm = "",
    password: Password = "",
    code: Code = "",
) -> Response:
    found = [v for v in _pending(session, consumer.customer_id) if v.id == request_id]
    if not found:
        raise RequestNotFound()
    identity = found[0].release_kind == ReleaseKind.IDENTITY_RELEASE

    def confirm_page(errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
        [item] = consent_bodies.inbox_items(session, found)
        context = {
            "consumer": consumer,
            "request_item": item,
            "offer": None,
            "errors": errors or {},
            "needs_code": needs_code(session, consumer.customer_id),
        }
        return render(request, "inbox_confirm.html", context, status_code=status_code)

    if identity and confirm != "yes":
        return confirm_page()
    try:
        request_answered.accept_request(
            session,
            runtime,
            consumer.customer_id,
            request_id,
            password=password if identity else None,
            code=(code or None) if identity else None,
            client_address=address,
        )
    except REFUSALS as exc:
        errors, status_code = refused(session, exc, password)
        return confirm_page(errors, status_code)
    return redirect(request, "/inbox", notice="request-accepted")


@router.post("/inbox/requests/{request_id}/refuse")
def refuse_request(
    request: Request,
    request_id: ItemId,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> Response:
    request_answered.refuse_request(session, runtime, consumer.customer_id, request_id)
    return redirect(request, "/inbox", notice="request-refused")


@router.post("/inbox/offers/{offer_id}/view")
def view_offer(
    request: Request, offer_id: ItemId, consumer: PageConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> Response:
    received.view(session, runtime, consumer.customer_id, offer_id)
    return redirect(request, f"/inbox#offer-{offer_id}")


def _confirm_offer(
    request: Request,
    session: Session,
    consumer: PageConsumer,
    offer: received.InboxOffer,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "inbox_confirm.html",
        {
            "consumer": consumer,
            "request_item": None,
            "offer": offer,
            "purpose_labels": {p.value: spec.label for p, spec in PURPOSES.items()},
            "errors": errors or {},
            "needs_code": needs_code(session, consumer.customer_id),
        },
        status_code=status_code,
    )


@router.post("/inbox/offers/{offer_id}/accept")
def accept_offer(
    request: Request,
    offer_id: ItemId,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    confirm: Confirm = "",
    password: Password = "",
    code: Code = "",
) -> Response:
    found = [o for o in received.list_offers(session, runtime, consumer.customer_id) if o.id == offer_id]
    if not found:
        raise OfferNotFound()
    if found[0].releases_identity and confirm != "yes":
        return _confirm_offer(request, session, consumer, found[0])
    try:
        offer_accepted.accept_offer(
            session,
            runtime,
            consumer.customer_id,
            offer_id,
            release_identity=confirm == "yes",
            password=password,
            code=code or None,
            client_address=address,
        )
    except REFUSALS as exc:
        errors, status_code = refused(session, exc, password)
        return _confirm_offer(request, session, consumer, found[0], errors, status_code)
    return redirect(request, "/inbox", notice="offer-accepted")


@router.post("/inbox/offers/{offer_id}/dismiss")
def dismiss_offer(
    request: Request, offer_id: ItemId, consumer: PageConsumer, session: WriteSessionDep
) -> Response:
    received.dismiss(session, consumer.customer_id, offer_id)
    return redirect(request, "/inbox", notice="offer-dismissed")


@router.post("/inbox/offers/{offer_id}/report")
def report_offer(
    request: Request, offer_id: ItemId, consumer: PageConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> Response:
    reports.report(session, runtime, consumer.customer_id, offer_id)
    return redirect(request, "/inbox", notice="offer-reported")
