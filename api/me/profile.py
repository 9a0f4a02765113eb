"""The consumer's profile, its history, their activity and the figures derived from it (see and correct)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import status

from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.me.schemas import (
    ActivityPage,
    ActivityRead,
    ActivityRecorded,
    HistoryPage,
    InsightsRead,
    Limit,
    ProfileChangeRead,
    ProfileRead,
)
from api.params import BigSerialCursor
from api.problems import problem_responses
from api.routing import api_router
from infomediary.flows import activity_recorded, profile_changed
from infomediary.profiles import activity, insights
from infomediary.profiles import service as profiles
from infomediary.profiles.fields import ProfilePatch
from infomediary.profiles.records import MAX_BATCH, ActivityBatch

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))


def _profile(views: list[profiles.FieldView]) -> ProfileRead:
    # Read from the views' attributes: `asdict` deep-copied every value, an eighth of a profile read's CPU.
    return ProfileRead.model_validate({"fields": views}, from_attributes=True)


@router.get(
    "/profile", response_model=ProfileRead, summary="Every profile field with its category and sensitivity"
)
def read_profile(consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep) -> ProfileRead:
    return _profile(profiles.read_profile(session, runtime, consumer.customer_id))


@router.patch(
    "/profile",
    response_model=ProfileRead,
    responses=problem_responses(409, 413, 422),
    summary="Correct the profile: a flat object of field key to value; null clears a field",
    description=(
        "Only the keys sent change. Unknown keys and invalid values are refused with a problem+json 422 "
        "naming each, and nothing changes. Changing `email` changes the login (409 if another account "
        "has it)."
    ),
)
def update_profile(
    body: ProfilePatch,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> ProfileRead:
    changes = body.model_dump(mode="json", exclude_unset=True)
    return _profile(
        profile_changed.update_profile(session, runtime, consumer.customer_id, changes, actor="customer")
    )


@router.get(
    "/profile/history", response_model=HistoryPage, summary="Every change of the profile, oldest first"
)
def read_history(
    consumer: CurrentConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: BigSerialCursor = None,
    limit: Limit = 50,
) -> HistoryPage:
    items = profiles.list_history(
        session, runtime, consumer.customer_id, after_id=int(cursor or 0), limit=limit
    )
    return HistoryPage(
        items=[ProfileChangeRead(**asdict(i)) for i in items],
        next_cursor=str(items[-1].id) if len(items) == limit else None,
    )


@router.post(
    "/activity",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRecorded,
    responses=problem_responses(413, 422),
    summary=f"Record your own activity and purchases (at most {MAX_BATCH} records per call)",
)
def record_activity(
    body: ActivityBatch, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> ActivityRecorded:
    recorded = activity_recorded.record_activity(session, runtime, consumer.customer_id, body.records)
    return ActivityRecorded(recorded=recorded)


@router.get("/activity", response_model=ActivityPage, summary="Your activity records, oldest first, paged")
def list_activity(
    consumer: CurrentConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: BigSerialCursor = None,
    limit: Limit = 50,
) -> ActivityPage:
    items = activity.list_activity(
        session, runtime, consumer.customer_id, after_id=int(cursor or 0), limit=limit
    )
    return ActivityPage(
        items=[ActivityRead(**asdict(i)) for i in items],
        next_cursor=str(items[-1].id) if len(items) == limit else None,
    )


@router.get(
    "/insights",
    response_model=InsightsRead,
    summary="Recency, frequency, monetary value and lifetime value, each with the records it came from",
    description=insights.__doc__ or "",
)
def read_insights(consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep) -> InsightsRead:
    return InsightsRead.model_validate(asdict(insights.derive(session, runtime, consumer.customer_id)))
