"""Vouchers in the privacy centre: turn credits into a code for one supplier, see the code once issued, and
the list of her vouchers. The same services as `POST /v1/me/vouchers` and `GET /v1/me/vouchers`.

The form carries an idempotency key drawn when the page was shown, so sending it twice (a double click, a
reload of the result) issues one voucher and shows the same code again.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import RuntimeDep, WriteSessionDep, keep_only_the_record
from api.pages.auth import PageConsumer
from api.pages.forms import parse_form
from api.pages.rendering import render
from api.pages.routing import page_router
from infomediary.database import utcnow
from infomediary.errors import DomainError
from infomediary.ledger.models import OwnerKind
from infomediary.ledger.statement import statement
from infomediary.runtime import Runtime
from infomediary.text import Id, Line, Opaque
from infomediary.vouchers import service
from infomediary.vouchers.service import MAX_DAYS, MAX_VALUE, MIN_VALUE

router = page_router()
SHOWN = 100
# Long enough for an id or any number a person types; a longer field is not one we would accept anyway.
Field64 = Annotated[Line, Form(max_length=64)]


class VoucherForm(BaseModel):
    supplier_id: Id = Field(description="Choose a supplier from the list.")
    value: int = Field(ge=MIN_VALUE, le=MAX_VALUE)
    days: int = Field(ge=1, le=MAX_DAYS)
    key: Opaque = Field(min_length=1)


def _blank() -> dict[str, str]:
    # A fresh key each time the empty form is shown: each voucher she means to issue is a new request.
    return {"value": "", "days": "30", "supplier_id": "", "key": secrets.token_urlsafe(16)}


def _page(
    request: Request,
    consumer: PageConsumer,
    session: Session,
    runtime: Runtime,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    customer_id = consumer.customer_id
    vouchers, _ = service.page_of(session, runtime, customer_id, cursor=None, limit=SHOWN, now=utcnow())
    return render(
        request,
        "vouchers.html",
        {
            "consumer": consumer,
            "balance": statement(session, OwnerKind.CUSTOMER, customer_id, cursor=None, limit=1).balance,
            "suppliers": service.supplier_choices(session),
            "vouchers": vouchers,
            "typed": typed or _blank(),
            "max_value": MAX_VALUE,
            "max_days": MAX_DAYS,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/vouchers")
def read_vouchers(
    request: Request, consumer: PageConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> Response:
    # A writing read: vouchers that expired unspent are refunded as she looks (`vouchers.service.settle`).
    service.settle(session, runtime, consumer.customer_id)
    return _page(request, consumer, session, runtime)


_MESSAGES = {
    "supplier_id": "Choose a supplier from the list.",
    "value": f"Enter a whole number of credits from {MIN_VALUE} to {MAX_VALUE}.",
    "days": f"Enter a whole number of days from 1 to {MAX_DAYS}.",
    "key": "The form has expired: send it again.",
}


@router.post("/vouchers")
def issue_voucher(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    supplier_id: Field64 = "",
    value: Field64 = "",
    days: Field64 = "",
    key: Annotated[Opaque, Form()] = "",
) -> Response:
    typed = {"supplier_id": supplier_id, "value": value.strip(), "days": days.strip(), "key": key}
    found, errors = parse_form(VoucherForm, typed)
    errors = {name: _MESSAGES.get(name, message) for name, message in errors.items()}
    if found is not None:
        try:
            issued = service.issue(
                session,
                runtime,
                consumer.customer_id,
                supplier_id=found.supplier_id,
                value=found.value,
                days=found.days,
                idempotency_key=found.key,
            )
        except DomainError as exc:
            keep_only_the_record(session, exc.record)
            errors = {"_form": f"{exc.title}: {exc.detail}. Nothing was charged."}
        else:
            return render(request, "voucher_issued.html", {"consumer": consumer, "voucher": issued.voucher})
    return _page(
        request,
        consumer,
        session,
        runtime,
        typed=typed,
        errors=errors,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
