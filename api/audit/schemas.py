"""Request and response bodies of the auditor's routes (RFC 6962 section 4 shapes where they fit)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from infomediary.sanctions.models import SanctionKind, Severity
from infomediary.text import Id, Pseudonym, Text


class TreeHeadRead(BaseModel):
    tree_size: int
    timestamp: int = Field(description="Milliseconds since the epoch, as in RFC 6962 get-sth.")
    sha256_root_hash: str = Field(description="Base64 root hash.")
    checkpoint: str = Field(description="The C2SP signed note (checkpoint) carrying the Ed25519 signature.")


class LogKeyRead(BaseModel):
    origin: str
    verifier_key: str = Field(description="C2SP verifier key: <name>+<key id>+<base64 key>.")


class EntryRead(BaseModel):
    leaf_index: int
    leaf_input: str = Field(
        description="Base64 of the exact entry bytes; the leaf hash is SHA-256(0x00 || these)."
    )
    kind: str


class EntriesRead(BaseModel):
    entries: list[EntryRead]


class InclusionRead(BaseModel):
    leaf_index: int
    audit_path: list[str]


class ConsistencyRead(BaseModel):
    consistency: list[str]


class ProcessingRowRead(BaseModel):
    supplier_id: str
    supplier_name: str | None
    purpose: str | None
    decisions: int
    permits: int
    denies: int
    releases: int
    customers_released: int
    epsilon_spent: float = Field(description="Epsilon charged, summed over releases.")


class ProcessingReport(BaseModel):
    rows: list[ProcessingRowRead]


class RecipientRead(BaseModel):
    supplier_id: str
    name: str
    status: str
    purposes: list[str]


class Article30Record(BaseModel):
    controller: str
    contact: str
    purposes: list[str]
    categories_of_data: list[str]
    data_subjects: int
    recipients: list[RecipientRead]
    retention: list[str]
    safeguards: list[str]
    policy_log_size: int


class FindingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: Id
    severity: Severity
    text: Annotated[Text, Field(min_length=1, max_length=4000)]


class SanctionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: Id
    kind: SanctionKind
    reason: Annotated[Text, Field(min_length=1, max_length=500)]
    amount_per_customer: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Penalties only: credits paid to each affected customer.",
    )
    affected: list[Pseudonym] | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Penalties only: the affected customers, as the supplier's own pseudonyms.",
    )

    @model_validator(mode="after")
    def _penalty_fields(self) -> SanctionCreate:
        is_penalty = self.kind is SanctionKind.PENALTY
        given = self.amount_per_customer is not None and self.affected is not None
        if is_penalty and not given:
            raise ValueError("a penalty needs amount_per_customer and affected")
        if not is_penalty and (self.amount_per_customer is not None or self.affected is not None):
            raise ValueError("amount_per_customer and affected are for penalties only")
        if self.affected is not None and len(set(self.affected)) != len(self.affected):
            raise ValueError("affected lists a pseudonym twice")
        return self


class RecordedRead(BaseModel):
    id: str
    supplier_id: str
    leaf_index: int
    created_at: datetime


class LogLineRead(BaseModel):
    leaf_index: int
    kind: str
    at: str = Field(description="When the entry was appended (RFC 3339 UTC), as the entry itself says.")
    supplier_id: str | None
    supplier_name: str | None
    purpose: str | None
    decision: str | None
    text: str = Field(description="The entry in plain words.")
    leaf_input: str = Field(description="Base64 of the exact entry bytes the leaf hash commits to.")


class LogSearchRead(BaseModel):
    entries: list[LogLineRead]
    next_cursor: int | None = Field(description="Pass as `cursor` for older entries; null at the end.")


class TreeHeadsRead(BaseModel):
    tree_heads: list[TreeHeadRead]
    next_cursor: int | None
