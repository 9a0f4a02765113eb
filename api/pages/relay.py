"""Her relay addresses (one per supplier allowed to write to her), each switched off or on in one click, and
the mail relayed to her, read as text. Same services as `/v1/me/aliases` and `/v1/me/relayed-messages`."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from fastapi import Form, Path, Query, Request, Response, status

from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.pages.auth import PageConsumer
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from consent.vocabulary import PURPOSES, Purpose
from infomediary.aliases import service as aliases
from infomediary.flows import relayed_message_reported
from infomediary.relay import messages, preferences
from infomediary.relay.filtering import ImagePolicy
from infomediary.text import Id, Opaque

router = page_router()
PAGE_SIZE: Final = 20
ReportToken = Annotated[Opaque, Path(max_length=128)]


def _purpose_label(key: str) -> str:
    try:
        return PURPOSES[Purpose(key)].label
    except ValueError:
        return key.replace("_", " ")


@router.get("/relay")
def relay_addresses(
    request: Request,
    consumer: PageConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: Annotated[Id | None, Query()] = None,
) -> Response:
    page = messages.list_for(session, runtime, consumer.customer_id, limit=PAGE_SIZE, cursor=cursor)
    return render(
        request,
        "relay.html",
        {
            "consumer": consumer,
            "aliases": aliases.list_for(session, runtime, consumer.customer_id),
            "messages": page.messages,
            "next_page": f"/relay?cursor={page.next_cursor}" if page.next_cursor else None,
            "first_page": cursor is not None,
            "purpose_label": _purpose_label,
            "relay_domain": runtime.settings.relay_domain,
            "remote_images": preferences.remote_images(session, consumer.customer_id).value,
        },
    )


@router.post("/relay/{alias_id}/switch")
def switch_alias(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    alias_id: Annotated[Id, Path()],
    to: Annotated[Literal["on", "off"], Form()],
) -> Response:
    aliases.switch(session, runtime, consumer.customer_id, alias_id, on=to == "on")
    return redirect(request, f"/relay#a-{alias_id}", notice="alias-on" if to == "on" else "alias-off")


@router.get("/relay/messages/{message_id}")
def relayed_message(
    request: Request,
    consumer: PageConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    message_id: Annotated[Id, Path()],
) -> Response:
    found = messages.read(session, runtime, consumer.customer_id, message_id)
    return render(
        request,
        "relay_message.html",
        {"consumer": consumer, "message": found, "purpose_label": _purpose_label},
    )


@router.post("/relay/settings")
def relay_settings(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    remote_images: Annotated[Literal["block", "proxy"], Form()],
) -> Response:
    preferences.set_remote_images(session, consumer.customer_id, ImagePolicy(remote_images))
    return redirect(request, "/relay#h-images", notice=f"images-{remote_images}")


@router.get("/relay/report/{token}")
def report_form(
    request: Request, session: ReadSessionDep, runtime: RuntimeDep, token: ReportToken
) -> Response:
    # Only shows the question: a mail scanner that opens every link reports nothing.
    found = relayed_message_reported.reportable(session, runtime, token)
    if found is None:
        return render(request, "relay_report.html", {"found": None}, status_code=status.HTTP_404_NOT_FOUND)
    return render(request, "relay_report.html", {"found": found, "token": token, "done": False})


@router.post("/relay/report/{token}")
def report(request: Request, session: WriteSessionDep, runtime: RuntimeDep, token: ReportToken) -> Response:
    found = relayed_message_reported.report(session, runtime, token)
    if found is None:
        return render(request, "relay_report.html", {"found": None}, status_code=status.HTTP_404_NOT_FOUND)
    return render(request, "relay_report.html", {"found": found, "token": token, "done": True})
