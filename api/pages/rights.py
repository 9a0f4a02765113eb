"""The customer's rights over everything held: export (download), restrict processing, erase the account
(after a confirmation page that asks for the password again, ending on the signed erasure receipt). Same
services as `/v1/me/export`, `/v1/me/restriction` and `DELETE /v1/me`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep, request_sessions
from api.pages.auth import PageConsumer
from api.pages.reauth import REFUSALS, Code, Password, needs_code, refused
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from api.session_cookie import clear_session_cookie
from api.tree_heads import FreshTreeHead
from infomediary.flows import account_erased, restriction_changed
from infomediary.portability import export
from infomediary.profiles import restriction
from infomediary.text import Text

router = page_router()
Choice = Annotated[Text, Form(max_length=16)]


@router.get("/rights")
def read_rights(request: Request, consumer: PageConsumer, session: ReadSessionDep) -> Response:
    return render(
        request,
        "rights.html",
        {"consumer": consumer, "restriction": restriction.describe(session, consumer.customer_id)},
    )


@router.get("/rights/export", dependencies=[FreshTreeHead])
def export_everything(
    request: Request, consumer: PageConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> StreamingResponse:
    export.check(session, runtime, consumer.customer_id)  # a problem page, not a 200 cut short
    return StreamingResponse(
        export.stream(request_sessions(request).snapshots, runtime, consumer.customer_id),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="infomediary-export.json"'},
    )


@router.post("/rights/restriction")
def set_restriction(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    action: Choice = "",
) -> Response:
    if action == "restrict":
        restriction_changed.restrict(session, consumer.customer_id)
        return redirect(request, "/rights", notice="restricted")
    if action == "lift":
        restriction_changed.lift(session, runtime, consumer.customer_id)
        return redirect(request, "/rights", notice="restriction-lifted")
    return render(
        request,
        "rights.html",
        {
            "consumer": consumer,
            "restriction": restriction.describe(session, consumer.customer_id),
            "errors": {"action": "Choose to restrict processing or to lift the restriction."},
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


@router.get("/rights/delete")
def confirm_delete(request: Request, consumer: PageConsumer, session: ReadSessionDep) -> Response:
    context = {"consumer": consumer, "needs_code": needs_code(session, consumer.customer_id)}
    return render(request, "delete.html", context)


@router.post("/rights/delete")
def delete_account(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    confirm: Choice = "",
    password: Password = "",
    code: Code = "",
) -> Response:
    if confirm != "yes":
        return render(
            request,
            "delete.html",
            {
                "consumer": consumer,
                "errors": {"confirm": "Tick the box to confirm that you want this."},
                "needs_code": needs_code(session, consumer.customer_id),
            },
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    try:
        result = account_erased.erase_account(
            session, runtime, consumer.customer_id, password=password, code=code, client_address=address
        )
    except REFUSALS as exc:
        errors, status_code = refused(session, exc, password)
        return render(
            request,
            "delete.html",
            {
                "consumer": consumer,
                "errors": errors,
                "confirmed": True,
                "needs_code": needs_code(session, consumer.customer_id),
            },
            status_code=status_code,
        )
    # The account is gone: the page shows the receipt without the navigation of a logged-in customer.
    response = render(request, "erased.html", {"consumer": None, "result": result})
    clear_session_cookie(response)
    return response
