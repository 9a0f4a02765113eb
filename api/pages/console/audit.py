"""The auditor view (`/audit`): the policy log searched by supplier and purpose, tree heads over time, an
entry's inclusion proof verified against a signed tree head, the reports, and recording a sanction.

Each view calls the service the auditor API calls (`/v1/audit/...`) for the same data.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import Depends, Form, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, SessionDep, WriteSessionDep
from api.pages.auth import NextQuery
from api.pages.console.auth import AUDITOR, log_in, log_out, login_form, operator_dependency, page
from api.pages.forms import parse_form
from api.pages.rendering import redirect
from api.pages.routing import page_router
from api.params import LeafCursor, TreeHeadCursor
from api.tree_heads import FreshTreeHead
from consent.vocabulary import Purpose
from infomediary.operators.service import AuthenticatedOperator
from infomediary.policylog import kinds, reports, search, treehead
from infomediary.policylog.inclusion_walkthrough import MAX_CHECKPOINT, check_inclusion
from infomediary.sanctions import service as sanctions
from infomediary.sanctions.models import SanctionKind
from infomediary.suppliers import service as suppliers
from infomediary.suppliers.errors import SupplierNotFound
from infomediary.text import Id, Index, Key
from infomediary.text import Text as FreeText

router = page_router(prefix="/audit")
Operator = Annotated[AuthenticatedOperator, Depends(operator_dependency(AUDITOR))]
Text = Annotated[FreeText, Form(max_length=512)]
PAGE = 25
# A penalty moves money to named customers and needs their pseudonyms and an idempotency key: it stays on
# the API (POST /v1/audit/sanctions). The form offers the sanctions a reason is enough for.
FORM_SANCTIONS = (SanctionKind.WARNING, SanctionKind.STRIKE, SanctionKind.SUSPENSION)


@router.get("/login")
def auditor_login_form(request: Request, session: ReadSessionDep, next: NextQuery = None) -> Response:
    return login_form(request, session, AUDITOR, next)


@router.post("/login")
def auditor_log_in(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    email: Text = "",
    password: Text = "",
    next: Text = "",
) -> Response:
    return log_in(
        request, session, runtime, AUDITOR, address=address, email=email, password=password, next=next
    )


@router.post("/logout")
def auditor_log_out(request: Request, session: WriteSessionDep, operator: Operator) -> Response:
    return log_out(request, session, AUDITOR, operator)


@router.get("")
def log(
    request: Request,
    operator: Operator,
    session: ReadSessionDep,
    supplier_id: Annotated[Id | None, Query()] = None,
    purpose: Annotated[Key | None, Query()] = None,
    kind: Annotated[Key | None, Query(max_length=40)] = None,
    cursor: LeafCursor = None,
) -> Response:
    found = search.search(
        session,
        supplier_id=supplier_id or None,
        purpose=purpose or None,
        kind=kind or None,
        before=cursor,
        limit=PAGE,
    )
    filters = {"supplier_id": supplier_id or "", "purpose": purpose or "", "kind": kind or ""}
    return page(
        request,
        AUDITOR,
        operator,
        "audit/log.html",
        {
            "found": found,
            "filters": filters,
            "suppliers": suppliers.list_all(session),
            "purposes": [p.value for p in Purpose],
            "kinds": sorted(kinds.KINDS),
            "cursor": cursor,
        },
    )


@router.get("/tree-heads")
def tree_heads(
    request: Request, operator: Operator, session: ReadSessionDep, cursor: TreeHeadCursor = None
) -> Response:
    found = treehead.history(session, before=cursor, limit=PAGE)
    return page(request, AUDITOR, operator, "audit/tree_heads.html", {"found": found, "cursor": cursor})


@router.get("/verify", dependencies=[FreshTreeHead])
def verify(
    request: Request,
    operator: Operator,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    leaf_index: Annotated[Index | None, Query()] = None,
    checkpoint: Annotated[FreeText | None, Query(max_length=MAX_CHECKPOINT)] = None,
) -> Response:
    result = None if leaf_index is None else check_inclusion(session, runtime, leaf_index, checkpoint)
    context = {
        "result": result,
        "leaf_index": "" if leaf_index is None else leaf_index,
        "checkpoint": checkpoint or "",
        "verifier_key": treehead.verifier_key(runtime),
    }
    return page(request, AUDITOR, operator, "audit/verify.html", context)


@router.get("/reports")
def report_page(
    request: Request, operator: Operator, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    context = {"rows": reports.processing(session), "record": reports.article30(session, runtime)}
    return page(request, AUDITOR, operator, "audit/reports.html", context)


@router.get("/reports/processing.csv")
def report_csv(operator: Operator, session: ReadSessionDep) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["supplier_id", "supplier_name", "purpose", "decisions", "permits", "denies", "releases",
         "customers_released", "epsilon_spent"]
    )  # fmt: skip
    for r in reports.processing(session):
        writer.writerow(
            [r.supplier_id, r.supplier_name, r.purpose, r.decisions, r.permits, r.denies, r.releases,
             r.customers_released, r.epsilon_milli / 1000]
        )  # fmt: skip
    headers = {"content-disposition": 'attachment; filename="processing-report.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


class SanctionForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    supplier_id: Id
    kind: SanctionKind
    reason: Annotated[FreeText, Field(min_length=1, max_length=500)]


def _sanctions_page(
    request: Request,
    operator: AuthenticatedOperator,
    session: SessionDep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    recent = search.search(session, kind=kinds.SANCTION_RECORDED, limit=PAGE)
    context = {
        "suppliers": suppliers.list_all(session),
        "sanction_kinds": [k.value for k in FORM_SANCTIONS],
        "recent": recent,
        "values": values or {"supplier_id": "", "kind": "", "reason": ""},
        "errors": errors or {},
    }
    return page(request, AUDITOR, operator, "audit/sanctions.html", context, status_code=status_code)


@router.get("/sanctions")
def sanctions_form(request: Request, operator: Operator, session: ReadSessionDep) -> Response:
    return _sanctions_page(request, operator, session)


@router.post("/sanctions")
def record_sanction(
    request: Request,
    operator: Operator,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    supplier_id: Text = "",
    kind: Text = "",
    reason: Text = "",
) -> Response:
    values = {"supplier_id": supplier_id, "kind": kind, "reason": reason}
    form, errors = parse_form(SanctionForm, values)
    if form is not None and form.kind not in FORM_SANCTIONS:
        form, errors = None, {"kind": "Penalties are recorded through the API, with the affected customers."}
    if form is not None:
        try:
            sanctions.record_sanction(
                session,
                runtime.settings,
                auditor_id=operator.owner_id,
                supplier_id=form.supplier_id,
                kind=form.kind,
                reason=form.reason,
            )
        except SupplierNotFound:
            errors = {"supplier_id": "Choose a supplier from the list."}
        else:
            return redirect(request, "/audit/sanctions", notice="sanction-recorded")
    return _sanctions_page(request, operator, session, values=values, errors=errors, status_code=422)
