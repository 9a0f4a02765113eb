"""What each supplier may do now: every supplier, whatever its status, with the grid of what it may use for
what and why, each cell switched in one click, and withdraw-all. Same service as `/v1/me/consents/effective`;
a click records the customer's answer through the same flow as the consent form."""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Form, Query, Request, Response

from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.pages.auth import PageConsumer
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from consent.decision import Reason
from consent.vocabulary import CATEGORIES, PURPOSES, Category, Purpose, is_sensitive
from infomediary.consents import effective
from infomediary.flows import consent_changed
from infomediary.text import Id

router = page_router()
# Suppliers per page: a supplier that declares every purpose and kind of data is a grid of 144 small forms.
PAGE_SIZE: Final = 10
PATH: Final = "/consents/effective"

Cursor = Annotated[Id | None, Query()]
SupplierId = Annotated[Id, Form()]
CursorField = Annotated[str, Form(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")]

# What a supplier's status means for the customer, in plain words.
STATUS_TEXT: Final = {
    "active": "In good standing.",
    "warned": "Warned: it broke the rules. It may still use what your consents and the defaults allow.",
    "throttled": (
        "Throttled: it broke the rules several times and gets fewer statistics. It may still use what your "
        "consents and the defaults allow."
    ),
    "suspended": "Suspended: it may use nothing while suspended. Your answers still apply if it is let back.",
}

# Where a customer changes what decides a cell above consent.
CHANGE_ELSEWHERE: Final = {
    Reason.PROCESSING_RESTRICTED: ("/rights", "Lift the restriction"),
    Reason.NEVER_PURPOSE: ("/terms", "Change your standing terms"),
    Reason.SUPPLIER_HAS_STRIKES: ("/terms", "Change your standing terms"),
    Reason.NEVER_CATEGORY: ("/terms", "Change your standing terms"),
}


def _back(cursor: str | None, supplier_id: str | None = None) -> str:
    path = PATH + (f"?{urlencode({'cursor': cursor})}" if cursor else "")
    return path + (f"#s-{supplier_id}" if supplier_id else "")


@router.get(PATH)
def what_each_supplier_may_do(
    request: Request, consumer: PageConsumer, session: ReadSessionDep, cursor: Cursor = None
) -> Response:
    view = effective.effective_consents(session, consumer.customer_id, cursor=cursor, limit=PAGE_SIZE)
    return render(
        request,
        "effective.html",
        {
            "consumer": consumer,
            "view": view,
            "cursor": cursor or "",
            "next_page": _back(view.next_cursor) if view.next_cursor else None,
            "purpose_label": lambda p: PURPOSES[p].label,
            "category_label": lambda c: CATEGORIES[c].label,
            "is_sensitive": is_sensitive,
            "explain": effective.explain,
            "allow_text": effective.allow_text,
            "status_text": STATUS_TEXT,
            "change_elsewhere": CHANGE_ELSEWHERE,
        },
    )


@router.post(PATH)
def switch(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    supplier_id: SupplierId,
    purpose: Annotated[Purpose, Form()],
    category: Annotated[Category, Form()],
    to: Annotated[effective.Switch, Form()],
    cursor: CursorField = "",
) -> Response:
    done = consent_changed.switch_cell(
        session,
        runtime,
        consumer.customer_id,
        supplier_id=supplier_id,
        purpose=purpose,
        category=category,
        to=to,
    )
    notice = "cell-switched" if done.changed else "cell-unchanged"
    return redirect(request, _back(cursor or None, supplier_id), notice=notice)


@router.post(f"{PATH}/withdraw-all")
def withdraw_all(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    cursor: CursorField = "",
) -> Response:
    done = consent_changed.withdraw_all(session, runtime, consumer.customer_id)
    notice = "all-withdrawn" if done.count else "nothing-to-withdraw"
    return redirect(request, _back(cursor or None), notice=notice)
