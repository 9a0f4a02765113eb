"""Request and response bodies of the supplier's webhook routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from infomediary.text import Line
from infomediary.webhooks.urls import MAX_URL_LENGTH

EventType = Literal["offer.accepted", "request.answered", "segment.rfm_band_rose"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[
        Line,
        Field(
            min_length=8,
            max_length=MAX_URL_LENGTH,
            description="https URL on a public address; redirects are not followed.",
        ),
    ]
    event_types: list[EventType] = Field(min_length=1, max_length=10)
    description: Line | None = None


class WebhookRead(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    created_at: datetime
    secret_rotated_at: datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description=(
            "`whsec_` and the base64 signing secret, shown only in this response; the broker stores it "
            "wrapped. Verify `webhook-signature` as the Standard Webhooks specification says."
        )
    )


class WebhookList(BaseModel):
    items: list[WebhookRead]


class DeliveryRead(BaseModel):
    id: str
    event_id: str = Field(description="Also the `webhook-id` header: the same on every retry.")
    event_type: str
    state: Literal["pending", "delivered", "failed", "dropped"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    finished_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None
