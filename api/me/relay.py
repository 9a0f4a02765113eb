"""The customer's relay addresses (one per supplier that may write to her) and the mail relayed to her."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, Field

from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.postings import Limit
from api.problems import problem_responses
from api.routing import api_router
from infomediary.aliases import service as aliases
from infomediary.relay import messages, preferences
from infomediary.relay.filtering import ImagePolicy
from infomediary.text import Id

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))

AliasId = Annotated[Id, Path()]
MessageId = Annotated[Id, Path()]
MessageCursor = Annotated[Id | None, Query(description="`next_cursor` of the page before.")]


class AliasRead(BaseModel):
    id: str
    supplier_id: str
    supplier_name: str
    address: str = Field(description="What the supplier writes to; it never learns your own address.")
    created_at: datetime
    on: bool = Field(description="Whether mail to it is accepted; switched off, it is refused at once.")
    switched_off_at: datetime | None


class AliasesRead(BaseModel):
    aliases: list[AliasRead]


class AliasSwitch(BaseModel):
    on: bool = Field(description="true: accept its mail again; false: refuse it from now on.")


class RelayedMessageSummary(BaseModel):
    id: str
    supplier_id: str
    supplier_name: str
    alias_id: str
    purpose: str
    received_at: datetime
    subject: str
    size: int
    direction: Literal["received", "sent"] = Field(
        description="received: a supplier's message to you; sent: your reply, as the supplier received it."
    )


class RelayedMessagesRead(BaseModel):
    messages: list[RelayedMessageSummary]
    next_cursor: str | None


class RelayedMessageRead(RelayedMessageSummary):
    text: str = Field(description="The message's text (its HTML reduced to text; nothing in it loads).")


class RelaySettings(BaseModel):
    remote_images: ImagePolicy = Field(
        description="block: remote images are removed from relayed mail (default); proxy: they are loaded "
        "through the broker, which the sender sees instead of you."
    )


def _alias(view: aliases.AliasView) -> AliasRead:
    return AliasRead(
        id=view.id,
        supplier_id=view.supplier_id,
        supplier_name=view.supplier_name,
        address=view.address,
        created_at=view.created_at,
        on=view.on,
        switched_off_at=view.switched_off_at,
    )


def _summary(found: messages.MessageSummary) -> RelayedMessageSummary:
    return RelayedMessageSummary(
        id=found.id,
        supplier_id=found.supplier_id,
        supplier_name=found.supplier_name,
        alias_id=found.alias_id,
        purpose=found.purpose,
        received_at=found.received_at,
        subject=found.subject,
        size=found.size,
        direction="sent" if found.direction == messages.SENT else "received",
    )


@router.get("/aliases", response_model=AliasesRead, summary="My relay addresses, one per supplier")
def my_aliases(consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep) -> AliasesRead:
    return AliasesRead(aliases=[_alias(v) for v in aliases.list_for(session, runtime, consumer.customer_id)])


@router.post(
    "/aliases/{alias_id}/switch",
    response_model=AliasRead,
    responses=problem_responses(404, 422),
    summary="Switch a relay address off (its mail is refused at once) or back on",
)
def switch_alias(
    alias_id: AliasId,
    body: AliasSwitch,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> AliasRead:
    return _alias(aliases.switch(session, runtime, consumer.customer_id, alias_id, on=body.on))


@router.get(
    "/relayed-messages",
    response_model=RelayedMessagesRead,
    responses=problem_responses(422),
    summary="Mail relayed to me, newest first (paged)",
)
def my_relayed_messages(
    consumer: CurrentConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: MessageCursor = None,
    limit: Limit = 50,
) -> RelayedMessagesRead:
    page = messages.list_for(session, runtime, consumer.customer_id, limit=limit, cursor=cursor)
    return RelayedMessagesRead(messages=[_summary(m) for m in page.messages], next_cursor=page.next_cursor)


@router.get(
    "/relayed-messages/{message_id}",
    response_model=RelayedMessageRead,
    responses=problem_responses(404, 422),
    summary="One message relayed to me, as text",
)
def my_relayed_message(
    message_id: MessageId, consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> RelayedMessageRead:
    found = messages.read(session, runtime, consumer.customer_id, message_id)
    return RelayedMessageRead(**_summary(found.summary).model_dump(), text=found.text)


@router.get("/relay-settings", response_model=RelaySettings, summary="My choices for relayed mail")
def my_relay_settings(consumer: CurrentConsumer, session: ReadSessionDep) -> RelaySettings:
    return RelaySettings(remote_images=preferences.remote_images(session, consumer.customer_id))


@router.put(
    "/relay-settings",
    response_model=RelaySettings,
    responses=problem_responses(422),
    summary="Choose whether remote images in relayed mail are blocked or proxied",
)
def set_my_relay_settings(
    body: RelaySettings, consumer: CurrentConsumer, session: WriteSessionDep
) -> RelaySettings:
    return RelaySettings(
        remote_images=preferences.set_remote_images(session, consumer.customer_id, body.remote_images)
    )
