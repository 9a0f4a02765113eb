"""The consumer's consent portfolio and standing terms: one view across suppliers, grant, refuse, withdraw
one or all (in force before the response: the request's transaction commits first), receipts, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from api.deps import ReadSessionDep, RuntimeDep, SessionDep, WriteSessionDep
from api.links import link
from api.me import consent_bodies
from api.me import effective_schemas as eff
from api.me.auth import CurrentConsumer
from api.me.consent_schemas import (
    ConsentAnswer,
    ConsentChange,
    ConsentPage,
    EventRead,
    ReceiptRead,
    TermRead,
    TermsIn,
    TermsRead,
    WithdrawAllRead,
)
from api.problems import problem_responses
from api.routing import api_router
from consent.decision import Reason
from consent.records import ConsentState
from infomediary.consents import effective, service, terms
from infomediary.database import utcnow
from infomediary.flows import consent_changed
from infomediary.text import Id

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))
RecordId = Annotated[Id, Path()]


def _change(session: SessionDep, change: service.Change) -> ConsentChange:
    [consent] = consent_bodies.consents(session, [change.record], utcnow())
    return ConsentChange(consent=consent, receipt_id=change.receipt_id, receipt=change.receipt)


@router.get("/consents", response_model=ConsentPage, summary="Every consent, across all suppliers")
def list_consents(
    consumer: CurrentConsumer,
    session: ReadSessionDep,
    cursor: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ConsentPage:
    records, next_cursor = service.list_records(session, consumer.customer_id, cursor=cursor, limit=limit)
    return ConsentPage(items=consent_bodies.consents(session, records, utcnow()), next_cursor=next_cursor)


def _cell(cell: effective.Cell) -> eff.EffectiveCell:
    # What an "Allow" keeps is said only where that click is what the page offers.
    keeps = cell.carried if cell.switch is effective.Switch.ALLOW else effective.Carried()
    return eff.EffectiveCell(
        purpose=cell.purpose,
        category=cell.category,
        permitted=cell.permitted,
        reason=cell.reason,
        asked_price=cell.asked_price,
        consent_ids=list(cell.record_ids),
        term_ids=list(cell.term_ids),
        changeable_by_consent=cell.switch is not None,
        allow_keeps_price=keeps.price,
        allow_keeps_until=keeps.until,
    )


def _effective(view: effective.EffectiveConsents) -> eff.EffectivePage:
    items = [
        eff.SupplierGrid(
            supplier=eff.SupplierStanding(
                id=grid.supplier.id, name=grid.supplier.name, status=grid.supplier.status
            ),
            policy_version=grid.policy_version,
            declared_purposes=list(grid.purposes),
            declared_categories=list(grid.categories),
            cells=[_cell(cell) for cell in grid.cells.values()],
        )
        for grid in view.suppliers
    ]
    reasons = {cell.reason for grid in view.suppliers for cell in grid.cells.values()}
    return eff.EffectivePage(
        items=items,
        next_cursor=view.next_cursor,
        at=view.at,
        release_kind=view.release_kind,
        restricted=view.restricted,
        gpc_recorded_at=view.gpc_since,
        reasons={r.value: effective.reason_text(r) for r in sorted(reasons, key=list(Reason).index)},
    )


@router.get(
    "/consents/effective",
    response_model=eff.EffectivePage,
    responses=problem_responses(422),
    summary="What each supplier may do now, and why: every supplier, whatever its status, every purpose x "
    "data category, as the decision point answers it",
)
def effective_consents(
    consumer: CurrentConsumer,
    session: ReadSessionDep,
    cursor: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
) -> eff.EffectivePage:
    return _effective(effective.effective_consents(session, consumer.customer_id, cursor=cursor, limit=limit))


# OpenAPI links: a client (or a stateful test) learns that the answer's consent id is what these routes take.
_RECORD = {"record_id": "$response.body#/consent/id"}
_RECORD_LINKS = {
    "withdraw": link("/v1/me/consents/{record_id}/withdraw", "post", parameters=_RECORD),
    "receipt": link("/v1/me/consents/{record_id}/receipt", "get", parameters=_RECORD),
    "events": link("/v1/me/consents/{record_id}/events", "get", parameters=_RECORD),
}


@router.post(
    "/consents",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentChange,
    responses={
        **problem_responses(404, 409, 413, 422),
        201: {"description": "The consent as recorded, with its receipt", "links": _RECORD_LINKS},
    },
    summary="Grant or refuse a consent (supplier or `*`, purpose, category or `*`); returns a signed receipt",
)
def answer_consent(
    body: ConsentAnswer, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> ConsentChange:
    [change] = consent_changed.answer(
        session,
        runtime,
        consumer.customer_id,
        state=ConsentState.GIVEN if body.decision == "grant" else ConsentState.REFUSED,
        supplier_id=None if body.supplier_id == "*" else body.supplier_id,
        purpose=body.purpose,
        categories=[None if body.category == "*" else body.category],
        expires_at=body.expires_at,
        price=body.price,
    )
    return _change(session, change)


@router.post(
    "/consents/withdraw-all",
    response_model=WithdrawAllRead,
    summary="Withdraw every consent in force, in one call; one receipt lists them all",
)
def withdraw_all(consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep) -> WithdrawAllRead:
    done = consent_changed.withdraw_all(session, runtime, consumer.customer_id)
    return WithdrawAllRead(withdrawn=done.count, receipt_id=done.receipt_id, receipt=done.receipt)


@router.post(
    "/consents/{record_id}/withdraw",
    response_model=ConsentChange,
    responses=problem_responses(404, 409),
    summary="Withdraw one consent; in force before this response returns",
)
def withdraw(
    record_id: RecordId, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> ConsentChange:
    return _change(session, consent_changed.withdraw(session, runtime, consumer.customer_id, record_id))


@router.get(
    "/consents/{record_id}/receipt",
    response_model=ReceiptRead,
    responses=problem_responses(404),
    summary="The latest signed receipt for this consent",
)
def receipt(record_id: RecordId, consumer: CurrentConsumer, session: ReadSessionDep) -> ReceiptRead:
    receipt_id, jws = service.latest_receipt(session, consumer.customer_id, record_id)
    return ReceiptRead(receipt_id=receipt_id, receipt=jws)


@router.get(
    "/consents/{record_id}/events",
    response_model=list[EventRead],
    responses=problem_responses(404),
    summary="The append-only history of this consent",
)
def events(record_id: RecordId, consumer: CurrentConsumer, session: ReadSessionDep) -> list[EventRead]:
    return [
        EventRead(
            from_state=e.from_state,
            to_state=e.to_state,
            at=e.at,
            actor=e.actor,
            reason=e.reason,
            receipt_id=e.receipt_id,
        )
        for e in service.events(session, consumer.customer_id, record_id)
    ]


def _terms(views: list[terms.TermView]) -> TermsRead:
    return TermsRead(
        terms=[
            TermRead(
                id=t.id,
                kind=t.kind,
                category=t.category,
                purpose=t.purpose,
                credits=t.credits,
                created_at=t.created_at,
            )
            for t in views
        ]
    )


@router.get("/terms", response_model=TermsRead, summary="Standing terms the broker enforces for you")
def read_terms(consumer: CurrentConsumer, session: ReadSessionDep) -> TermsRead:
    return _terms(terms.list_terms(session, consumer.customer_id))


@router.put(
    "/terms",
    response_model=TermsRead,
    responses=problem_responses(413, 422),
    summary="Replace your standing terms (they override grants)",
)
def replace_terms(
    body: TermsIn, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> TermsRead:
    specs = [terms.TermSpec(t.kind, t.category, t.purpose, t.credits) for t in body.terms]
    return _terms(consent_changed.replace_terms(session, runtime, consumer.customer_id, specs))


@router.delete("/terms", status_code=status.HTTP_204_NO_CONTENT, summary="Remove all standing terms")
def clear_terms(consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep) -> None:
    terms.clear_terms(session, runtime, consumer.customer_id)
