"""Record and list the customer's activity. Each record is sealed whole, as JSON, under the customer's key.

The associated data binds a record to the customer, its kind (``activity.<kind>``) and the record schema
version; the clear ``kind`` and ``occurred_at`` columns are repeated inside the sealed JSON and checked on
opening, so editing either in the database is detected.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.profiles import datakeys, repository
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.profiles.errors import VaultUnreadable
from infomediary.profiles.models import ActivityRecord
from infomediary.profiles.records import RECORD_SCHEMA_VERSION, ActivityIn
from infomediary.runtime import Runtime

_RECORD = TypeAdapter[Any](ActivityIn)


@dataclass(frozen=True)
class ActivityView:
    id: int
    kind: str
    occurred_at: datetime
    record: dict[str, Any]


def aad_name(kind: str) -> str:
    return f"activity.{kind}"


def record(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    records: Sequence[Any],
    *,
    cipher: CustomerCipher | None = None,
) -> int:
    """Seal and store validated records (``records.ActivityIn`` instances); returns how many."""
    cipher = cipher or datakeys.cipher_for(session, runtime, customer_id)
    now = utcnow()
    rows = []
    for item in records:
        rows.append(
            ActivityRecord(
                customer_id=customer_id,
                kind=item.kind,
                occurred_at=item.occurred_at,
                schema_version=RECORD_SCHEMA_VERSION,
                ciphertext=seal_document(cipher, item.kind, document(item)),
                recorded_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    return len(rows)


def document(item: Any) -> dict[str, Any]:
    """A validated record (``records.ActivityIn``) in the JSON form that is sealed and read back."""
    dumped: dict[str, Any] = _RECORD.dump_python(item, mode="json")
    return dumped


def seal_document(cipher: CustomerCipher, kind: str, document: dict[str, Any]) -> bytes:
    """Seal a record's document at `RECORD_SCHEMA_VERSION` (the demo's bulk seeder seals through here too)."""
    plaintext = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return cipher.seal(aad_name(kind), plaintext, RECORD_SCHEMA_VERSION)


def list_activity(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    *,
    after_id: int = 0,
    limit: int = 50,
    kind: str | None = None,
) -> list[ActivityView]:
    cipher = datakeys.cipher_for(session, runtime, customer_id)
    return [
        open_record(cipher, row)
        for row in repository.activity_page(session, customer_id, after_id, limit, kind)
    ]


class SealedRecord(Protocol):
    """An activity row as stored: an `ActivityRecord`, or a plain row of its columns (cheaper to load)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def ciphertext(self) -> bytes: ...


def open_record(cipher: CustomerCipher, row: SealedRecord) -> ActivityView:
    document: dict[str, Any] = json.loads(cipher.open(aad_name(row.kind), row.ciphertext, row.schema_version))
    sealed_time = datetime.fromisoformat(document["occurred_at"])
    if document.get("kind") != row.kind or sealed_time != row.occurred_at:
        raise VaultUnreadable(f"activity record {row.id} of customer {cipher.customer_id!r} was altered")
    return ActivityView(id=row.id, kind=row.kind, occurred_at=row.occurred_at, record=document)
