"""Response bodies of the customer's view of the policy log."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LogEntryRead(BaseModel):
    leaf_index: int
    at: str = Field(description="When it happened (RFC 3339 UTC).")
    kind: str
    text: str = Field(description="What happened, in plain words.")
    supplier_id: str | None
    decision: str | None
    leaf_input: str = Field(description="Base64 of the exact entry bytes, to recompute the leaf hash.")
    audit_path: list[str] | None = Field(
        description="Inclusion proof against `tree_head`; null if the entry is newer than that head."
    )


class MyTreeHead(BaseModel):
    tree_size: int
    sha256_root_hash: str
    checkpoint: str


class MyLogRead(BaseModel):
    entries: list[LogEntryRead]
    next_cursor: str | None
    tree_head: MyTreeHead | None
