"""Consents across every supplier, with each supplier's privacy policy in plain words next to them: grant,
refuse, withdraw one, withdraw everything, download receipts. Standing terms live here too. The services are
the ones behind `/v1/me/consents` and `/v1/me/terms`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Form, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ReadSessionDep, RuntimeDep, SessionDep, WriteSessionDep, keep_only_the_record
from api.me import consent_bodies
from api.me.consent_schemas import ConsentAnswer, ConsentRead
from api.pages.auth import PageConsumer
from api.pages.effective import STATUS_TEXT
from api.pages.forms import parse_form
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from consent.records import ConsentState
from consent.vocabulary import CATEGORIES, PURPOSES, Category, Purpose, sensitivity
from infomediary.consents import policies, receipts, service
from infomediary.database import utcnow
from infomediary.errors import DomainError
from infomediary.flows import consent_changed
from infomediary.suppliers import service as suppliers
from infomediary.text import Id, Text

router = page_router()
RecordId = Annotated[Id, Path()]
Short = Annotated[Text, Form(max_length=64)]
PAGE = 100
MAX_PAGES = 10  # a thousand consent records on one page is already more than anyone reads


class GrantForm(BaseModel):
    """The grant/refuse form; the same rules as `ConsentAnswer` plus a date picker for the expiry."""

    model_config = ConfigDict(extra="ignore")

    supplier_id: str = Field(min_length=1, max_length=40)
    purpose: Purpose
    category: Category | str = Field(max_length=40)
    decision: str = Field(pattern="^(grant|refuse)$")
    expires_on: date | None = None
    price: int | None = Field(default=None, ge=0, le=1_000_000_000)


def _all_records(session: SessionDep, customer_id: str) -> list[Any]:
    records: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page, cursor = service.list_records(session, customer_id, cursor=cursor, limit=PAGE)
        records.extend(page)
        if cursor is None:
            break
    return records


def _plain_policy(policy: policies.PolicyView) -> dict[str, Any]:
    host = urlsplit(policy.policy_url).hostname if policy.policy_url else None
    return {
        "version": policy.version,
        "published_at": policy.published_at,
        "purposes": [(p.value, PURPOSES[p].label, PURPOSES[p].description) for p in policy.purposes],
        "categories": [
            (c.value, CATEGORIES[c].label, CATEGORIES[c].description, sensitivity(c).value == "sensitive")
            for c in policy.categories
        ],
        "purpose_options": [(p.value, PURPOSES[p].label) for p in policy.purposes],
        "category_options": [(c.value, CATEGORIES[c].label) for c in policy.categories],
        # The address is shown as text, not a link: the pages load and link nothing outside this site.
        "published_at_host": host,
    }


def _page(
    request: Request,
    session: SessionDep,
    consumer: PageConsumer,
    *,
    errors: dict[str, str] | None = None,
    error_supplier: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    now = utcnow()
    consents: list[ConsentRead] = consent_bodies.consents(
        session, _all_records(session, consumer.customer_id), now
    )
    # Every supplier, whatever its status: a warned or throttled one still uses what consent and the defaults
    # allow, and a suspended one may be let back, so each can be answered on its own.
    listed = suppliers.list_all(session)
    current = policies.current_views(session, {s.id for s in listed})
    by_supplier: dict[str | None, list[ConsentRead]] = {}
    for consent in consents:
        by_supplier.setdefault(consent.supplier.id if consent.supplier else None, []).append(consent)
    cards = [
        {
            "id": s.id,
            "name": s.name,
            "status": s.status,
            "policy": _plain_policy(current[s.id]) if s.id in current else None,
            "consents": by_supplier.pop(s.id, []),
        }
        for s in listed
    ]
    # Consents with a supplier that is gone (its record deleted) still show, so they can be withdrawn.
    for supplier_id, rows in by_supplier.items():
        if supplier_id is not None:
            name = rows[0].supplier.name if rows[0].supplier else supplier_id
            cards.append({"id": supplier_id, "name": name, "status": None, "policy": None, "consents": rows})
    return render(
        request,
        "consents.html",
        {
            "consumer": consumer,
            "cards": cards,
            "everyone": by_supplier.get(None, []),
            "in_force": sum(1 for c in consents if c.state == ConsentState.GIVEN.value),
            "all_purposes": [(p.value, PURPOSES[p].label) for p in Purpose],
            "all_categories": [(c.value, CATEGORIES[c].label) for c in Category],
            "status_text": STATUS_TEXT,
            "errors": errors or {},
            "error_supplier": error_supplier,
        },
        status_code=status_code,
    )


@router.get("/consents")
def list_consents(request: Request, consumer: PageConsumer, session: ReadSessionDep) -> Response:
    return _page(request, session, consumer)


@router.post("/consents")
def answer(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    supplier_id: Short = "",
    purpose: Short = "",
    category: Short = "",
    decision: Short = "",
    expires_on: Short = "",
    price: Short = "",
) -> Response:
    form, errors = parse_form(
        GrantForm,
        {
            "supplier_id": supplier_id,
            "purpose": purpose,
            "category": category,
            "decision": decision,
            "expires_on": expires_on or None,
            "price": price or None,
        },
    )
    if form is not None:
        expires_at = datetime.combine(form.expires_on, time.max, UTC) if form.expires_on else None
        body, more = parse_form(
            ConsentAnswer,
            {
                "supplier_id": form.supplier_id,
                "purpose": form.purpose,
                "category": form.category,
                "decision": form.decision,
                "expires_at": expires_at,
                "price": form.price,
            },
        )
        errors.update(more)
        if body is not None:
            try:
                consent_changed.answer(
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
            except DomainError as exc:
                keep_only_the_record(session, exc.record)
                errors["_form"] = exc.detail
            else:
                return redirect(
                    request,
                    "/consents",
                    notice="consent-granted" if body.decision == "grant" else "consent-refused",
                )
    return _page(
        request,
        session,
        consumer,
        errors=errors,
        error_supplier=supplier_id,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


@router.post("/consents/withdraw-all")
def withdraw_all(
    request: Request, consumer: PageConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> Response:
    done = consent_changed.withdraw_all(session, runtime, consumer.customer_id)
    return redirect(request, "/consents", notice="all-withdrawn" if done.count else "nothing-to-withdraw")


@router.post("/consents/{record_id}/withdraw")
def withdraw(
    request: Request,
    record_id: RecordId,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> Response:
    consent_changed.withdraw(session, runtime, consumer.customer_id, record_id)
    return redirect(request, "/consents", notice="consent-withdrawn")


@router.get("/consents/{record_id}/receipt")
def receipt(
    request: Request,
    record_id: RecordId,
    consumer: PageConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
) -> Response:
    """The receipt as a page: what was agreed, and whether its signature checks out against the published
    keys (the JWS itself is a download from there)."""
    receipt_id, jws = service.latest_receipt(session, consumer.customer_id, record_id)
    try:
        claims: dict[str, Any] | None = receipts.verified_claims(runtime, jws)
    except receipts.ReceiptInvalid:
        claims = None
    return render(
        request,
        "receipt.html",
        {
            "consumer": consumer,
            "record_id": record_id,
            "receipt_id": receipt_id,
            "claims": claims,
            "status": str((claims or {}).get("consentStatus", "")).rsplit("/", 1)[-1].rsplit("#", 1)[-1],
            "signed_at": datetime.fromtimestamp(int((claims or {}).get("iat", 0)), UTC),
            "categories": {c.value: CATEGORIES[c].label for c in Category},
        },
    )


@router.get("/consents/{record_id}/receipt.jws")
def receipt_download(record_id: RecordId, consumer: PageConsumer, session: ReadSessionDep) -> Response:
    receipt_id, jws = service.latest_receipt(session, consumer.customer_id, record_id)
    # A compact JWS (Kantara consent receipt), verifiable with the keys at /.well-known/jwks.json.
    return Response(
        jws,
        media_type="application/jose",
        headers={"Content-Disposition": f'attachment; filename="consent-receipt-{receipt_id}.jws"'},
    )
