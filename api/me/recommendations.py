"""The consumer's view of what drives their recommendations at a supplier, and their switches."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.recommendations.schemas import (
    DriverRead,
    ExclusionsIn,
    ExplainedRead,
    ExplanationRead,
    PersonalisationIn,
    PersonalisationRead,
)
from infomediary.flows import consent_changed
from infomediary.recommendations import explanations
from infomediary.text import Id

router = api_router(prefix="/v1/me/recommendations", tags=["consumer"], responses=problem_responses(401))
SupplierId = Annotated[Id, Query()]


def _read(found: explanations.Explanation) -> ExplanationRead:
    return ExplanationRead(
        supplier_id=found.supplier_id,
        personalisation=found.personalisation,
        drivers=[DriverRead(**vars(d)) for d in found.drivers],
        recommendations=[ExplainedRead(**vars(e)) for e in found.recommendations],
    )


@router.get(
    "/explanations",
    response_model=ExplanationRead,
    responses=problem_responses(404),
    summary="What drives your recommendations at a supplier: 'because you viewed ...'",
)
def explain(
    supplier_id: SupplierId, consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> ExplanationRead:
    return _read(explanations.explain(session, runtime, consumer.customer_id, supplier_id))


@router.put(
    "/explanations/exclusions",
    response_model=ExplanationRead,
    responses=problem_responses(404, 422),
    summary="Set the items left out of what drives your recommendations at a supplier",
)
def set_exclusions(
    body: ExclusionsIn, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> ExplanationRead:
    return _read(
        explanations.set_exclusions(session, runtime, consumer.customer_id, body.supplier_id, body.items)
    )


@router.put(
    "/personalisation/{supplier_id}",
    response_model=PersonalisationRead,
    responses=problem_responses(404, 409),
    summary="Switch personalisation by a supplier on or off (kept as consent records, with receipts)",
)
def switch(
    supplier_id: Annotated[Id, Path()],
    body: PersonalisationIn,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> PersonalisationRead:
    enabled = consent_changed.switch_personalisation(
        session, runtime, consumer.customer_id, supplier_id, enabled=body.enabled
    )
    return PersonalisationRead(supplier_id=supplier_id, enabled=enabled)
