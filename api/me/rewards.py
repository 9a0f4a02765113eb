"""The customer's rewards: their credit balance and what paid it, newest first."""

from __future__ import annotations

from api.deps import ReadSessionDep
from api.me.auth import CurrentConsumer
from api.me.reward_schemas import RewardsRead
from api.params import SerialCursor
from api.postings import Limit, postings_of
from api.problems import problem_responses
from api.routing import api_router
from infomediary.ledger.models import OwnerKind
from infomediary.ledger.statement import statement

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))


@router.get(
    "/rewards",
    response_model=RewardsRead,
    responses=problem_responses(422),
    summary="My credit balance and the postings behind it (paged, newest first)",
)
def my_rewards(
    consumer: CurrentConsumer, session: ReadSessionDep, cursor: SerialCursor = None, limit: Limit = 50
) -> RewardsRead:
    found = statement(session, OwnerKind.CUSTOMER, consumer.customer_id, cursor=cursor, limit=limit)
    return RewardsRead(balance=found.balance, postings=postings_of(found), next_cursor=found.next_cursor)
