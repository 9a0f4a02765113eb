"""Bodies of the consumer's consent routes: portfolio, receipts, standing terms, requests and pseudonyms."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.accounts.schemas import SecondFactorCode
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.text import ID_LENGTH, Credits, Id, Secret

ALL: Literal["*"] = "*"
SupplierId = Annotated[str, Field(min_length=1, max_length=ID_LENGTH, pattern=r"^(\*|[A-Za-z0-9_-]+)$")]


class Label(BaseModel):
    key: str
    label: str


class PolicySummary(BaseModel):
    """A supplier's current privacy policy in plain words."""

    version: int
    purposes: list[Label]
    categories: list[Label]
    policy_url: str | None
    published_at: datetime


class SupplierRef(BaseModel):
    id: str
    name: str
    policy: PolicySummary | None


class ConsentRead(BaseModel):
    id: str
    supplier: SupplierRef | None = Field(description="null: every supplier (the `*` wildcard).")
    purpose: Label
    category: Label | None = Field(description="null: every category (the `*` wildcard).")
    state: str = Field(description="The state in force now (expiry and invalidation applied).")
    expires_at: datetime | None
    price: int | None
    policy_version: int | None
    created_at: datetime
    updated_at: datetime


class ConsentPage(BaseModel):
    items: list[ConsentRead]
    next_cursor: str | None


class ConsentAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: SupplierId = Field(description="A supplier id, or `*` for every supplier.")
    purpose: Purpose
    category: Category | Literal["*"] = Field(description="A data category, or `*` for every category.")
    decision: Literal["grant", "refuse"]
    expires_at: datetime | None = None
    price: Credits | None = Field(default=None, description="Credits asked for this use.")


class ConsentChange(BaseModel):
    consent: ConsentRead
    receipt_id: str
    receipt: str = Field(description="Kantara consent receipt as a compact JWS (verify with the JWKS).")


class WithdrawAllRead(BaseModel):
    withdrawn: int
    receipt_id: str | None
    receipt: str | None


class ReceiptRead(BaseModel):
    receipt_id: str
    receipt: str


class EventRead(BaseModel):
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    reason: str
    receipt_id: str | None


class TermIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["never_category", "never_purpose", "min_price", "only_unstruck_suppliers"]
    category: Category | None = None
    purpose: Purpose | None = None
    credits: Credits | None = None


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms: list[TermIn] = Field(max_length=50)


class TermRead(BaseModel):
    id: str
    kind: str
    category: Category | None
    purpose: Purpose | None
    credits: int | None
    created_at: datetime


class TermsRead(BaseModel):
    terms: list[TermRead]


class InboxItem(BaseModel):
    id: str
    supplier: SupplierRef
    origin: str = Field(description="`supplier` (a supplier asked) or `policy_change` (asked again).")
    purpose: Label
    categories: list[Label]
    release_kind: ReleaseKind
    price_offered: int
    expires_at: datetime
    status: str
    created_at: datetime


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None


class RequestAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Secret | None = Field(
        default=None,
        description=(
            "Your current password, required when the request asks to release your identity: missing or "
            "wrong, 403 `reauthentication-failed`; repeated wrong ones count as failed logins (429)."
        ),
    )
    code: SecondFactorCode = None


class InboxAnswer(BaseModel):
    item: InboxItem
    receipt_id: str | None = None
    receipt: str | None = None


class PseudonymIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: Id


class PseudonymRead(BaseModel):
    supplier_id: str
    supplier_name: str
    pseudonym: str
    issued_at: datetime


class PseudonymsRead(BaseModel):
    pseudonyms: list[PseudonymRead]
