"""The supplier's versioned privacy policy: publish a version, read the current one and the history."""

from __future__ import annotations

from api.bearer import CurrentSupplier
from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.policy_schemas import PolicyHistory, PolicyIn, PolicyPublished, PolicyRead
from infomediary.consents import policies
from infomediary.flows import policy_published

router = api_router(prefix="/v1/supplier", tags=["supplier"], responses=problem_responses(401, 403))


def _read(view: policies.PolicyView) -> PolicyRead:
    return PolicyRead(
        version=view.version,
        purposes=view.purposes,
        categories=view.categories,
        policy_url=view.policy_url,
        published_at=view.published_at,
        consent_floor_version=view.consent_floor_version,
    )


@router.put(
    "/policy",
    response_model=PolicyPublished,
    responses=problem_responses(413, 422),
    summary="Publish a new version; one that widens purposes or categories invalidates older consents",
)
def publish(
    body: PolicyIn, caller: CurrentSupplier, session: WriteSessionDep, runtime: RuntimeDep
) -> PolicyPublished:
    published = policy_published.publish_policy(
        session,
        runtime,
        caller.owner_id,
        purposes=body.purposes,
        categories=body.categories,
        policy_url=None if body.policy_url is None else str(body.policy_url),
    )
    return PolicyPublished(
        policy=_read(published.policy), widened=published.widened, invalidated_consents=published.invalidated
    )


@router.get("/policy", response_model=PolicyHistory, summary="The current policy and every earlier version")
def read_policy(caller: CurrentSupplier, session: ReadSessionDep) -> PolicyHistory:
    history = [_read(v) for v in policies.history(session, caller.owner_id)]
    return PolicyHistory(current=history[0] if history else None, history=history)
