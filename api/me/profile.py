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
    EmailChangeMailed,
    HistoryPage,
    InsightsRead,
    Limit,
    ProfileChangeRead,
    ProfileRead,
    ProfileUpdated,
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


# The same words whatever became of the new address: whether it has an account is told only to its mailbox.
EMAIL_CHANGE_MAILED = EmailChangeMailed(
    detail=(
        "Check your mail at the new address and follow the link there to confirm it. Until then your email "
        "address and your login stay as they are."
    )
)


@router.patch(
    "/profile",
    response_model=ProfileUpdated,
    responses=problem_responses(413, 422),
    summary="Correct the profile: a flat object of field key to value; null clears a field",
    description=(
        "Only the keys sent change. Unknown keys and invalid values are refused with a problem+json 422 "
        "naming each, and nothing changes.\n\n"
        "`email` is also the login, and a new one changes nothing at once: a link is mailed to the new "
        "address and the current one is told of the change; `email` and the login move to the new address "
        "only when the link is followed (`POST /v1/accounts/email-change/confirm`). The answer is the same "
        "200, with `email_change` set, whether or not another account uses the new address (its owner is "
        "told someone tried, and nothing else happens), so this is no way to learn who has an account. The "
        "other fields of the same request change at once."
    ),
)
def update_profile(
    body: ProfilePatch,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> ProfileUpdated:
    changes = body.model_dump(mode="json", exclude_unset=True)
    updated = profile_changed.update_profile(
        session, runtime, consumer.customer_id, changes, actor="customer"
    )
    return ProfileUpdated.model_validate(
        {
            "fields": updated.fields,
            "email_change": EMAIL_CHANGE_MAILED if updated.email_confirmation_mailed else None,
        },
        from_attributes=True,
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
