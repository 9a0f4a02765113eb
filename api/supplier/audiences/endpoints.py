"""Audience counts for suppliers (`audiences:read`): the allow-listed dimensions and the noisy count."""

from __future__ import annotations

from typing import Annotated

from fastapi import Response, Security

from api.bearer import supplier
from api.deps import RuntimeDep, WriteSessionDep
from api.epsilon import announce, budget_responses
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.audiences.schemas import (
    AudienceCountRead,
    AudienceCountRequest,
    DimensionRead,
    DimensionsRead,
)
from infomediary.audiences import service
from infomediary.audiences.dimensions import DIMENSIONS
from infomediary.audiences.predicate import MAX_CONDITIONS, MAX_DEPTH
from infomediary.oauth.bearer import Principal

router = api_router(prefix="/v1/audiences", tags=["supplier"], responses=problem_responses(401, 403))
AudienceReader = Annotated[Principal, Security(supplier, scopes=["audiences:read"])]


@router.get(
    "/dimensions", response_model=DimensionsRead, summary="The dimensions an audience may be counted by"
)
async def list_dimensions(caller: AudienceReader) -> DimensionsRead:
    return DimensionsRead(
        dimensions=[
            DimensionRead(
                key=d.key,
                category=d.category.value,
                description=d.description,
                values=list(d.domain) if d.domain is not None else None,
                ordered=d.ordered,
            )
            for d in DIMENSIONS.values()
        ],
        max_depth=MAX_DEPTH,
        max_conditions=MAX_CONDITIONS,
    )


@router.post(
    "/count",
    response_model=AudienceCountRead,
    responses=budget_responses(200, 422, 429),
    summary="Count consenting customers matching a predicate, with differential-privacy noise",
    description=(
        "Counts distinct customers who match the predicate and whose consent permits an aggregate count for "
        "the purpose and the data categories the dimensions derive from. Adds discrete Laplace noise, "
        "suppresses noisy counts below the minimum cohort, charges epsilon to the supplier's budget for the "
        "period (429 with Retry-After when spent) and returns the stored answer to a repeated query free. "
        "Every answer, the 429 included, carries Epsilon-Remaining and Epsilon-Resets-At. A purpose or "
        "category your published policy does not declare is refused (403 undeclared-use), logged and struck."
    ),
)
def count_audience(
    body: AudienceCountRequest,
    caller: AudienceReader,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> AudienceCountRead:
    answer = service.count_audience(session, runtime, caller.owner_id, body.predicate, body.purpose)
    announce(response, answer.standing)
    return AudienceCountRead(
        count=answer.count,
        suppressed=answer.suppressed,
        minimum_cohort=answer.minimum_cohort,
        epsilon_charged=answer.epsilon_charged,
        epsilon_remaining=answer.epsilon_remaining,
        cached=answer.cached,
        budget_resets_at=answer.budget_resets_at,
    )
