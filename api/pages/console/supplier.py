"""The supplier console (`/supplier`): status, strikes, epsilon left, the ledger, privacy policy versions,
API credentials (rotate the secret) and offers with their thresholded statistics.

Every view calls the service the supplier API calls for the same figures, with the signed-in operator's own
supplier id: there is no supplier id in any URL or form, so no other supplier's data can be asked for.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Path, Query, Request, Response

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep
from api.pages.auth import NextQuery
from api.pages.console.auth import SUPPLIER, log_in, log_out, login_form, operator_dependency, page
from api.pages.routing import page_router
from infomediary import supplier_dashboard
from infomediary.audiences.budget import budget_milli
from infomediary.audiences.noise import MILLI
from infomediary.consents import policies
from infomediary.database import utcnow
from infomediary.ledger.models import OwnerKind
from infomediary.ledger.statement import statement
from infomediary.oauth import credentials
from infomediary.offers import service as offers
from infomediary.operators.service import AuthenticatedOperator
from infomediary.suppliers import service as suppliers
from infomediary.text import Id, Opaque, SerialId
from infomediary.text import Text as FreeText

router = page_router(prefix="/supplier")
Operator = Annotated[AuthenticatedOperator, Depends(operator_dependency(SUPPLIER))]
Text = Annotated[FreeText, Form(max_length=512)]
PAGE = 25


@router.get("/login")
def supplier_login_form(request: Request, session: ReadSessionDep, next: NextQuery = None) -> Response:
    return login_form(request, session, SUPPLIER, next)


@router.post("/login")
def supplier_log_in(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    email: Text = "",
    password: Text = "",
    next: Text = "",
) -> Response:
    return log_in(
        request, session, runtime, SUPPLIER, address=address, email=email, password=password, next=next
    )


@router.post("/logout")
def supplier_log_out(request: Request, session: WriteSessionDep, operator: Operator) -> Response:
    return log_out(request, session, SUPPLIER, operator)


@router.get("")
def overview(request: Request, operator: Operator, session: ReadSessionDep, runtime: RuntimeDep) -> Response:
    supplier = suppliers.get_own(session, operator.owner_id)
    figures = supplier_dashboard.figures(session, runtime.settings, supplier.id, supplier.status, utcnow())
    return page(
        request,
        SUPPLIER,
        operator,
        "supplier/overview.html",
        {
            "supplier": supplier,
            "figures": figures,
            "epsilon_budget": budget_milli(runtime.settings, supplier.status) / MILLI,
            "policy": policies.current(session, supplier.id),
        },
    )


@router.get("/ledger")
def ledger(
    request: Request,
    operator: Operator,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: Annotated[SerialId | None, Query()] = None,
) -> Response:
    found = statement(session, OwnerKind.SUPPLIER, operator.owner_id, cursor=cursor, limit=PAGE)
    context = {"statement": found, "credit_line": runtime.settings.supplier_credit_line, "cursor": cursor}
    return page(request, SUPPLIER, operator, "supplier/ledger.html", context)


@router.get("/policy")
def policy(request: Request, operator: Operator, session: ReadSessionDep) -> Response:
    history = policies.history(session, operator.owner_id)
    return page(request, SUPPLIER, operator, "supplier/policy.html", {"history": history})


@router.get("/offers")
def offer_list(
    request: Request,
    operator: Operator,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: Annotated[Opaque | None, Query(max_length=100)] = None,
) -> Response:
    found = offers.list_own(session, runtime, operator.owner_id, cursor=cursor, limit=PAGE)
    context = {"offers": found, "cursor": cursor, "k": runtime.settings.offer_min_cohort}
    return page(request, SUPPLIER, operator, "supplier/offers.html", context)


@router.get("/offers/{offer_id}")
def offer_detail(
    request: Request,
    operator: Operator,
    # Writes, like GET /v1/offers/{id}: reading an offer logs identity decisions, may draw fresh figures
    # (charging the budget) and settles an expired offer.
    session: WriteSessionDep,
    runtime: RuntimeDep,
    offer_id: Annotated[Id, Path()],
) -> Response:
    # Another supplier's offer is a 404, exactly as on GET /v1/offers/{id}.
    offer = offers.read(session, runtime, operator.owner_id, offer_id)
    return page(request, SUPPLIER, operator, "supplier/offer.html", {"offer": offer})


@router.get("/credentials")
def credential_list(request: Request, operator: Operator, session: ReadSessionDep) -> Response:
    clients = credentials.supplier_clients(session, operator.owner_id)
    return page(request, SUPPLIER, operator, "supplier/credentials.html", {"clients": clients})


@router.post("/credentials/rotate")
def rotate_secret(
    request: Request,
    operator: Operator,
    session: WriteSessionDep,
    client_id: Annotated[Id, Form(max_length=64)],
) -> Response:
    rotated = credentials.rotate_supplier_secret(session, supplier_id=operator.owner_id, client_id=client_id)
    # Rendered here, not redirected to: the secret exists nowhere else and is never shown again (the response
    # carries Cache-Control: no-store like every other).
    clients = credentials.supplier_clients(session, operator.owner_id)
    context = {"clients": clients, "rotated": rotated}
    return page(request, SUPPLIER, operator, "supplier/credentials.html", context)
