"""The consumer's offers, matched by the broker: view, accept, dismiss or report them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status

from api.deps import ClientAddressDep, RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.me.offer_schemas import AcceptIn, DiscountRuleRead, InboxOfferRead, InboxOffersRead
from api.problems import problem_responses
from api.routing import api_router
from infomediary.flows import offer_accepted
from infomediary.offers import received, reports
from infomediary.text import Id

router = api_router(prefix="/v1/me/offers", tags=["consumer"], responses=problem_responses(401))
OfferId = Annotated[Id, Path()]


def _rule(offer: received.InboxOffer) -> DiscountRuleRead | None:
    if offer.min_order_amount is None or offer.currency is None or offer.discount_percent is None:
        return None
    units, cents = divmod(offer.min_order_amount, 100)
    return DiscountRuleRead(
        min_order_amount=offer.min_order_amount,
        currency=offer.currency,
        discount_percent=offer.discount_percent,
        summary=f"An order over {units}.{cents:02d} {offer.currency} earns {offer.discount_percent}% off",
    )


def _read(offer: received.InboxOffer) -> InboxOfferRead:
    return InboxOfferRead(
        id=offer.id,
        supplier_id=offer.supplier_id,
        supplier_name=offer.supplier_name,
        content=offer.content,
        purpose=offer.purpose,
        reward_per_view=offer.reward_per_view,
        reward_per_acceptance=offer.reward_per_acceptance,
        releases_identity=offer.releases_identity,
        rule=_rule(offer),
        expires_at=offer.expires_at,
        state=offer.state,
        delivered_at=offer.delivered_at,
        viewed_at=offer.viewed_at,
        accepted_at=offer.accepted_at,
    )


@router.get(
    "",
    response_model=InboxOffersRead,
    summary="Offers delivered to you and still open",
    description="Open offers you now match and consent to are delivered on this read, if sent before.",
)
def list_offers(consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep) -> InboxOffersRead:
    return InboxOffersRead(
        items=[_read(o) for o in received.list_offers(session, runtime, consumer.customer_id)]
    )


@router.post(
    "/{offer_id}/view",
    response_model=InboxOfferRead,
    responses=problem_responses(402, 404, 409),
    summary="Open the offer; the first view earns its view reward",
)
def view(
    offer_id: OfferId, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> InboxOfferRead:
    return _read(received.view(session, runtime, consumer.customer_id, offer_id))


@router.post(
    "/{offer_id}/accept",
    response_model=InboxOfferRead,
    responses=problem_responses(402, 403, 404, 409, 422, 429),
    summary="Accept the offer; if it releases your identity, confirm with release_identity and your password",
)
def accept(
    offer_id: OfferId,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    body: AcceptIn | None = None,
) -> InboxOfferRead:
    confirm = body or AcceptIn()
    return _read(
        offer_accepted.accept_offer(
            session,
            runtime,
            consumer.customer_id,
            offer_id,
            release_identity=confirm.release_identity,
            password=confirm.password,
            code=confirm.code,
            client_address=address,
        )
    )


@router.post(
    "/{offer_id}/dismiss",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
    summary="Remove the offer from your inbox",
)
def dismiss(offer_id: OfferId, consumer: CurrentConsumer, session: WriteSessionDep) -> Response:
    received.dismiss(session, consumer.customer_id, offer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{offer_id}/report",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 429),
    summary="Report the offer as unwanted: it counts against the supplier",
    description=(
        "One report per offer. Reports earn the supplier a strike only when many distinct customers "
        "report (see the README); a customer reporting many offers in a short time gets 429 with Retry-After."
    ),
)
def report(
    offer_id: OfferId, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> Response:
    reports.report(session, runtime, consumer.customer_id, offer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
