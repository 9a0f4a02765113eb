"""Recommendations for suppliers (`recommendations:read`): for one of their pseudonyms, or for an audience."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response, Security

from api.bearer import supplier
from api.deps import RuntimeDep, WriteSessionDep
from api.epsilon import announce, budget_responses
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.recommendations.schemas import (
    AudienceItemRead,
    AudienceRecommendationIn,
    AudienceRecommendationRead,
    DiscountRead,
    RecommendationsRead,
    RecommendedItemRead,
)
from infomediary.oauth.bearer import Principal
from infomediary.recommendations import audience, service
from infomediary.text import Pseudonym

router = api_router(prefix="/v1/recommendations", tags=["supplier"], responses=problem_responses(401, 403))
RecommendationReader = Annotated[Principal, Security(supplier, scopes=["recommendations:read"])]
PseudonymPath = Annotated[Pseudonym, Path()]


@router.post(
    "/audience",
    response_model=AudienceRecommendationRead,
    responses=budget_responses(200, 422, 429),
    summary="Top items of your catalog for an audience predicate, as a differentially private selection",
    description=(
        "The audience is counted like POST /v1/audiences/count for personalisation and the selection drawn "
        "with OpenDP's noisy top-k: both spend epsilon from your budget (429 with Retry-After when spent; "
        "Epsilon-Remaining and Epsilon-Resets-At on every answer); the same request again in the budget "
        "period gets the stored answer back without spending. An undeclared purpose or category is refused "
        "(403 undeclared-use), logged and struck."
    ),
)
def audience_items(
    body: AudienceRecommendationIn,
    caller: RecommendationReader,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> AudienceRecommendationRead:
    found = audience.top_items(session, runtime, caller.owner_id, body.predicate, body.n)
    announce(response, found.standing)
    return AudienceRecommendationRead(
        items=[
            AudienceItemRead(
                id=i.id, title=i.title, categories=i.categories, price=i.price, currency=i.currency
            )
            for i in found.items
        ],
        suppressed=found.suppressed,
        minimum_cohort=found.minimum_cohort,
        audience_count=found.audience_count,
        epsilon_charged=found.epsilon_charged,
        epsilon_remaining=found.epsilon_remaining,
        cached=found.cached,
        budget_resets_at=found.budget_resets_at,
    )


@router.get(
    "/{pseudonym}",
    response_model=RecommendationsRead,
    responses=problem_responses(404),
    summary="Items of your catalog for one of your pseudonyms, ranked, your rules applied",
    description=(
        "Needs the customer's consent to personalisation by you (403 otherwise; the decision is logged), "
        "and personalisation declared in your published policy (403 undeclared-use, logged and struck). "
        "A pseudonym you were not given answers 404, whoever it belongs to."
    ),
)
def recommend(
    pseudonym: PseudonymPath,
    caller: RecommendationReader,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    n: Annotated[int, Query(ge=1, le=50)] = 10,
) -> RecommendationsRead:
    found = service.recommend(session, runtime, caller.owner_id, pseudonym, n)
    return RecommendationsRead(
        items=[RecommendedItemRead(**vars(i)) for i in found.items],
        discounts=[DiscountRead(percent=d.percent, item=d.item) for d in found.discounts],
        rules_fired=found.rules_fired,
    )
