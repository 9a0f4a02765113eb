"""The customer's privacy-loss account in plain words: what the statistics that included her cost her this
period, supplier by supplier, against her limit, and the form to set that limit or go back to the default.
Same services as `/v1/me/privacy-loss` and `PUT /v1/me/privacy-loss/cap`."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import Form, Request, Response, status
from sqlalchemy.orm import Session

from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep, keep_only_the_record
from api.pages.auth import PageConsumer
from api.pages.rendering import epsilon, redirect, render
from api.pages.routing import page_router
from infomediary.audiences import accounting
from infomediary.audiences.noise import MILLI
from infomediary.database import utcnow
from infomediary.privacy_loss.service import Account
from infomediary.settings import Settings
from infomediary.text import Text as FreeText

router = page_router()
# Long enough for any number a person types; a longer field is not a number we would accept anyway.
Text = Annotated[FreeText, Form(max_length=32)]


def _page(
    request: Request,
    consumer: PageConsumer,
    account: Account,
    settings: Settings,
    *,
    typed: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    cap_max_milli = round(settings.privacy_loss_cap_max * MILLI)
    return render(
        request,
        "privacy_loss.html",
        {
            "consumer": consumer,
            "account": account,
            "period_end": account.period_start + timedelta(seconds=settings.audience_budget_period_seconds),
            "default_milli": accounting.default_cap_milli(settings),
            "max_milli": cap_max_milli,
            # A refused value is shown back as typed, so she sees what was wrong with it.
            "typed": typed if typed is not None else epsilon(account.cap_milli),
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _parse(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@router.get("/privacy-loss")
def read_privacy_loss(
    request: Request, consumer: PageConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    settings = runtime.settings
    account = accounting.account_of(session, settings, consumer.customer_id, utcnow())
    return _page(request, consumer, account, settings)


@router.post("/privacy-loss")
def set_privacy_loss_cap(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    action: Text = "",
    cap: Text = "",
) -> Response:
    settings = runtime.settings
    if action == "default":
        accounting.set_own_cap(session, settings, consumer.customer_id, None, utcnow())
        return redirect(request, "/privacy-loss", notice="privacy-cap-default")
    value = _parse(cap) if action == "set" else None
    if value is not None:
        try:
            accounting.set_own_cap(session, settings, consumer.customer_id, value, utcnow())
        except accounting.CapOutOfRange as exc:
            keep_only_the_record(session, exc.record)
        else:
            return redirect(request, "/privacy-loss", notice="privacy-cap-saved")
    return _refused(request, consumer, session, settings, cap)


def _refused(
    request: Request, consumer: PageConsumer, session: Session, settings: Settings, typed: str
) -> Response:
    maximum = epsilon(round(settings.privacy_loss_cap_max * MILLI))
    message = f"Enter a number from 0 to {maximum}, or use the default. Your limit was not changed."
    return _page(
        request,
        consumer,
        accounting.account_of(session, settings, consumer.customer_id, utcnow()),
        settings,
        typed=typed,
        errors={"cap": message},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
