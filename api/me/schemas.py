"""Request and response bodies of the consumer's own routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from api.accounts.schemas import SecondFactorCode
from infomediary.text import Secret


class MeRead(BaseModel):
    id: str
    created_at: datetime


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Secret = Field(
        description="Wrong: 403 `reauthentication-failed`, counted as a failed login (then 429).",
    )
    new_password: Annotated[Secret, Field(min_length=12, description="12 to 256 characters.")]
    code: SecondFactorCode = None


# -- the vault: profile, history, activity, derived figures, rights ---------------------------------------

Limit = Annotated[int, Query(ge=1, le=200)]


class ProfileFieldRead(BaseModel):
    key: str
    label: str
    category: str = Field(description="The data category the consent engine decides by.")
    sensitivity: Literal["ordinary", "sensitive"]
    value: Any = Field(description="null when the field is not set.")
    source: str | None = Field(
        description="Where the value came from: customer, registration, operator, demo."
    )
    updated_at: datetime | None


class ProfileRead(BaseModel):
    fields: list[ProfileFieldRead]


class EmailChangeMailed(BaseModel):
    detail: str


class ProfileUpdated(ProfileRead):
    email_change: EmailChangeMailed | None = Field(
        default=None,
        description=(
            "Set when the change asked for a new `email`: a link to confirm it was mailed to the new address "
            "(or, if the address is another account's, its owner was told; the answer is the same). `email` "
            "and the login stay as they were until the link is followed."
        ),
    )


class ProfileChangeRead(BaseModel):
    id: int
    field: str
    old: Any
    new: Any
    actor: str = Field(description="Who made the change: customer, registration, operator, demo.")
    changed_at: datetime


class HistoryPage(BaseModel):
    items: list[ProfileChangeRead]
    next_cursor: str | None


class ActivityRead(BaseModel):
    id: int
    kind: str
    occurred_at: datetime
    record: dict[str, Any] = Field(description="The record as it was posted.")


class ActivityPage(BaseModel):
    items: list[ActivityRead]
    next_cursor: str | None


class ActivityRecorded(BaseModel):
    recorded: int


class SourceRead(BaseModel):
    """Which records a derived figure came from."""

    model_config = ConfigDict(populate_by_name=True)

    kind: str
    count: int
    first: datetime | None = Field(serialization_alias="from", alias="from")
    last: datetime | None = Field(serialization_alias="to", alias="to")


class MoneyRead(BaseModel):
    currency: str
    amount: int = Field(description="Minor units of the currency.")
    source: SourceRead


class InsightsRead(BaseModel):
    recency_days: int | None = Field(description="Days since the last purchase.")
    recency_source: SourceRead
    frequency: int = Field(description="Purchases in the window.")
    frequency_source: SourceRead
    monetary: list[MoneyRead] = Field(description="Spend in the window, per currency.")
    average_order_value: list[MoneyRead]
    lifetime_value: list[MoneyRead]
    lifetime_value_method: str
    window_days: int


class RestrictionRead(BaseModel):
    restricted: bool
    since: datetime | None


class ErasureConfirm(BaseModel):
    """The body of `DELETE /v1/me`: a session token alone must not be able to erase the account."""

    model_config = ConfigDict(extra="forbid")

    password: Secret = Field(
        description=(
            "Your current password. Wrong: 403 `reauthentication-failed` and nothing erased; repeated wrong "
            "ones count as failed logins (429 `login-throttled`)."
        ),
    )
    code: SecondFactorCode = None


class ErasureReceiptRead(BaseModel):
    receipt: str = Field(
        description="Compact JWS (ES256, typ `erasure-receipt+jwt`) verifiable with `/.well-known/jwks.json`."
    )
    account: str
    erased_at: datetime
    rows_deleted: dict[str, int]
    erasure_key_destroyed: bool
