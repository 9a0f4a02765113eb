"""Offers for suppliers (`offers:write`): send one to a predicate's consenting customers, read its reach."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response, Security, status

from api.bearer import supplier
from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.epsilon import announce_read, budget_responses
from api.params import IdempotencyKey
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.offers.schemas import (
    OfferIn,
    OfferList,
    OfferRead,
    OfferStatsRead,
    OfferSummaryRead,
    ReleasedIdentityRead,
)
from consent.vocabulary import Purpose
from infomediary.oauth.bearer import Principal
from infomediary.offers import service
from infomediary.offers.stats import OfferStats
from infomediary.text import Id, Opaque

router = api_router(prefix="/v1/offers", tags=["supplier"], responses=problem_responses(401, 403))
OfferWriter = Annotated[Principal, Security(supplier, scopes=["offers:write"])]
OfferId = Annotated[Id, Path()]


def _stats(stats: OfferStats) -> OfferStatsRead:
    return OfferStatsRead(
        delivered=stats.delivered,
        viewed=stats.viewed,
        accepted=stats.accepted,
        minimum_cohort=stats.minimum_cohort,
    )


def _read(offer: service.SupplierOffer) -> OfferRead:
    return OfferRead(
        id=offer.id,
        purpose=Purpose(offer.purpose),
        expires_at=offer.expires_at,
        budget_cap=offer.budget_cap,
        created_at=offer.created_at,
        withdrawn_at=offer.withdrawn_at,
        closed=offer.refunded_at is not None,
        stats=_stats(offer.stats),
        released_identities=[
            ReleasedIdentityRead(
                pseudonym=i.pseudonym, given_name=i.given_name, family_name=i.family_name, email=i.email
            )
            for i in offer.identities
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OfferRead,
    responses=budget_responses(201, 400, 402, 409, 422, 429),
    summary="Send an offer: the broker delivers it to the consenting customers your predicate matches",
    description=(
        "Matching happens at once and inside the broker (and later for customers who consent later): you "
        "learn how many customers it reached only as a noisy count, from the minimum cohort up (null "
        "below), never who. Sending one spends epsilon from your audience budget (429 when spent; "
        "Epsilon-Remaining and Epsilon-Resets-At on every answer). A purpose or category your published "
        "policy does not declare is refused (403 undeclared-use), logged and struck. An offer whose noisy "
        "audience is below the audience minimum cohort is refused (422 offer-audience-too-small), delivers "
        "nothing and commits no budget, but its epsilon stays spent. "
        "budget_cap is debited from your balance when "
        "the offer is sent (402 beyond your credit line) and pays customers' rewards as they view and "
        "accept. An Idempotency-Key is required; repeating it returns the same offer."
    ),
)
def create_offer(
    body: OfferIn,
    caller: OfferWriter,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OfferRead:
    rule = body.rule
    draft = service.OfferDraft(
        content=body.content,
        predicate=body.predicate,
        purpose=body.purpose,
        reward_per_view=body.reward_per_view,
        reward_per_acceptance=body.reward_per_acceptance,
        releases_identity=body.releases_identity,
        expires_at=body.expires_at,
        budget_cap=body.budget_cap,
        min_order_amount=rule.min_order_amount if rule else None,
        currency=rule.currency if rule else None,
        discount_percent=rule.discount_percent if rule else None,
    )
    offer = service.create(session, runtime, caller.owner_id, draft, idempotency_key=idempotency_key)
    announce_read(response, session, runtime, caller.owner_id)
    return _read(offer)


@router.get(
    "",
    response_model=OfferList,
    responses=problem_responses(422),
    summary="Your offers, newest first, each with its thresholded reach (paged)",
)
def list_offers(
    caller: OfferWriter,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: Annotated[Opaque | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OfferList:
    page = service.list_own(session, runtime, caller.owner_id, cursor=cursor, limit=limit)
    return OfferList(
        offers=[
            OfferSummaryRead(
                id=o.id,
                content=o.content,
                purpose=Purpose(o.purpose),
                reward_per_view=o.reward_per_view,
                reward_per_acceptance=o.reward_per_acceptance,
                releases_identity=o.releases_identity,
                expires_at=o.expires_at,
                budget_cap=o.budget_cap,
                created_at=o.created_at,
                stats=_stats(o.stats),
            )
            for o in page.offers
        ],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{offer_id}",
    response_model=OfferRead,
    responses=budget_responses(200, 404),
    summary="One of your offers: noisy reach, and identities released to you by acceptance",
    description=(
        "Statistics are noisy (OpenDP), null below minimum_cohort, and drawn afresh on a fixed schedule "
        "(at most once per offer_stats_interval_seconds, when read after it elapsed, whether or not the "
        "figures changed; once more after the offer closes, then final). Each fresh draw spends epsilon "
        "from your audience budget; when it is spent the last figures stay (Epsilon-Remaining and "
        "Epsilon-Resets-At on every answer). Reading an expired offer refunds its unspent budget, in one "
        "entry."
    ),
)
def read_offer(
    offer_id: OfferId, caller: OfferWriter, session: WriteSessionDep, runtime: RuntimeDep, response: Response
) -> OfferRead:
    offer = service.read(session, runtime, caller.owner_id, offer_id)
    announce_read(response, session, runtime, caller.owner_id)
    return _read(offer)


@router.post(
    "/{offer_id}/withdraw",
    response_model=OfferRead,
    responses=budget_responses(200, 404),
    summary="Withdraw one of your offers: it leaves every inbox and its unspent budget is refunded",
    description=(
        "The unspent part of budget_cap goes back to your balance once (an offer_refund in your ledger); "
        "withdrawing again, or an offer that already expired, changes nothing more. "
        "Another supplier's offer is 404."
    ),
)
def withdraw_offer(
    offer_id: OfferId, caller: OfferWriter, session: WriteSessionDep, runtime: RuntimeDep, response: Response
) -> OfferRead:
    # Its answer carries the offer's statistics, drawn afresh if the budget allows: it may spend epsilon.
    offer = service.withdraw(session, runtime, caller.owner_id, offer_id)
    announce_read(response, session, runtime, caller.owner_id)
    return _read(offer)
