"""See and correct the profile: read every profile field, apply a validated change, list the change history.

Each stored value is sealed as ``{"value": ..., "source": actor}``, so every field says where it came from
(the customer, registration, an operator, the demo seeder). Each change appends a history entry whose
field, old and new value and actor are sealed together under the customer's key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.offload import off_the_loop
from infomediary.profiles import datakeys, repository
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.profiles.errors import CustomerShredded, InvalidProfile
from infomediary.profiles.fields import FIELDS, SCHEMA_VERSION, ProfilePatch, field_aad_name
from infomediary.profiles.models import ProfileChange, ProfileField
from infomediary.runtime import Runtime
from vault import WrappedKey

Actor = Literal["customer", "registration", "operator", "demo"]
HISTORY_AAD = "profile.history"
# Customers per query when reading many profiles: well under every backend's bound-parameter limit.
_BATCH = 500


@dataclass(frozen=True)
class FieldView:
    key: str
    label: str
    category: str
    sensitivity: str
    value: Any
    source: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class ChangeView:
    id: int
    field: str
    old: Any
    new: Any
    actor: str
    changed_at: datetime


def validate_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a flat mapping of field key to value against ``FIELDS``; returns JSON-form values."""
    try:
        patch = ProfilePatch.model_validate(dict(changes))
    except ValidationError as exc:
        errors = [
            {"pointer": "/body/" + "/".join(str(p) for p in e["loc"]), "reason": e["msg"]}
            for e in exc.errors()
        ]
        raise InvalidProfile("the profile change does not match the field catalog", errors=errors) from None
    dumped = patch.model_dump(mode="json", exclude_unset=True)
    if "email" in dumped and dumped["email"] is None:
        raise InvalidProfile(
            "the email is the login and cannot be cleared; erase the account instead",
            errors=[{"pointer": "/body/email", "reason": "cannot be null"}],
        )
    # In the order given, so the history reads in the order the customer wrote the change.
    return {key: dumped[key] for key in changes if key in dumped}


def read_profile(session: Session, runtime: Runtime, customer_id: str) -> list[FieldView]:
    cipher = datakeys.cipher_for(session, runtime, customer_id)
    stored = {row.field: row for row in repository.profile_fields(session, customer_id)}
    views = []
    for key, spec in FIELDS.items():
        row = stored.get(key)
        value, source = _open_value(cipher, row) if row is not None else (None, None)
        views.append(
            FieldView(
                key=key,
                label=spec.label,
                category=spec.category,
                sensitivity=spec.sensitivity.value,
                value=value,
                source=source,
                updated_at=row.updated_at if row is not None else None,
            )
        )
    return views


def stored_values(session: Session, runtime: Runtime, customer_id: str) -> dict[str, Any]:
    """Only the fields that hold a value, as key -> JSON value."""
    return {v.key: v.value for v in read_profile(session, runtime, customer_id) if v.value is not None}


def values_of(
    session: Session, runtime: Runtime, customer_ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored values of `fields` for many customers, as customer -> key -> JSON value.

    Only for callers that already hold a permit for these customers (the slice service): this function
    decides nothing. Keys and rows are read in batches; the vault's data-key cache spares the unwrapping.
    Each batch is decrypted on the CPU pool (`infomediary.offload`): hundreds of decryptions, tens of
    milliseconds that would otherwise stall every other request on the event loop.
    """
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(customer_ids), _BATCH):
        batch = customer_ids[start : start + _BATCH]
        wrapped = repository.wrapped_keys(session, batch)
        rows = repository.fields_of(session, batch, fields)
        for customer_id, values in off_the_loop(_open_batch, runtime, wrapped, rows).items():
            out.setdefault(customer_id, {}).update(values)
    return out


def _open_batch(
    runtime: Runtime, wrapped: Mapping[str, bytes], rows: Sequence[tuple[str, str, int, bytes]]
) -> dict[str, dict[str, Any]]:
    ciphers = {
        cid: CustomerCipher(runtime.vault, cid, WrappedKey.from_bytes(raw)) for cid, raw in wrapped.items()
    }
    out: dict[str, dict[str, Any]] = {}
    shredded: set[str] = set()
    for customer_id, field, version, ciphertext in rows:
        cipher = ciphers.get(customer_id)
        if cipher is None or customer_id in shredded:
            continue
        try:
            out.setdefault(customer_id, {})[field] = _open_sealed(cipher, field, ciphertext, version)[0]
        except CustomerShredded:
            # Erased, her rows back from an older backup: skipped like any erased customer.
            shredded.add(customer_id)
            out.pop(customer_id, None)
    return out


def apply_changes(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    changes: Mapping[str, Any],
    *,
    actor: Actor = "customer",
    now: datetime | None = None,
    cipher: CustomerCipher | None = None,
) -> bool:
    """Validate and apply ``changes`` (null clears a field), recording each real change in the history.

    True when the change named any field: what follows from it (the audience index) is the caller's,
    `flows.profile_changed`; the demo's bulk seeder writes index rows itself, from the values it holds.

    The readable `email` is the login's address: it is written here only where the login is, or is about
    to be, the same (registration, and a change confirmed by its link, `flows.login_email_changed`).
    """
    values = validate_changes(changes)
    now = now or utcnow()
    cipher = cipher or datakeys.cipher_for(session, runtime, customer_id)
    stored = {row.field: row for row in repository.profile_fields(session, customer_id)} if values else {}
    for key, new in values.items():
        row = stored.get(key)
        old = _open_value(cipher, row)[0] if row is not None else None
        if old == new:
            continue
        if new is None:
            assert row is not None
            session.delete(row)
        else:
            sealed = seal_value(cipher, key, new, actor)
            if row is None:
                session.add(
                    ProfileField(
                        customer_id=customer_id,
                        field=key,
                        schema_version=SCHEMA_VERSION,
                        ciphertext=sealed,
                        updated_at=now,
                    )
                )
            else:
                row.ciphertext, row.schema_version, row.updated_at = sealed, SCHEMA_VERSION, now
        session.add(
            ProfileChange(
                customer_id=customer_id,
                schema_version=SCHEMA_VERSION,
                ciphertext=seal_change(cipher, key, old, new, actor),
                changed_at=now,
            )
        )
    session.flush()
    return bool(values)


def list_history(
    session: Session, runtime: Runtime, customer_id: str, *, after_id: int = 0, limit: int = 50
) -> list[ChangeView]:
    cipher = datakeys.cipher_for(session, runtime, customer_id)
    return [
        open_change(cipher, row) for row in repository.changes_page(session, customer_id, after_id, limit)
    ]


def open_change(cipher: CustomerCipher, row: ProfileChange) -> ChangeView:
    entry = json.loads(cipher.open(HISTORY_AAD, row.ciphertext, row.schema_version))
    return ChangeView(
        id=row.id,
        field=entry["field"],
        old=entry["old"],
        new=entry["new"],
        actor=entry["actor"],
        changed_at=row.changed_at,
    )


def seal_value(cipher: CustomerCipher, key: str, value: Any, source: str) -> bytes:
    """A stored field value as sealed at `SCHEMA_VERSION` (the demo's bulk seeder seals through here too)."""
    return cipher.seal(field_aad_name(key), _json({"value": value, "source": source}), SCHEMA_VERSION)


def seal_change(cipher: CustomerCipher, key: str, old: Any, new: Any, actor: str) -> bytes:
    """A history entry as sealed at `SCHEMA_VERSION`: field, old and new value and actor together."""
    entry = {"field": key, "old": old, "new": new, "actor": actor}
    return cipher.seal(HISTORY_AAD, _json(entry), SCHEMA_VERSION)


def _open_value(cipher: CustomerCipher, row: ProfileField) -> tuple[Any, str]:
    return _open_sealed(cipher, row.field, row.ciphertext, row.schema_version)


def _open_sealed(cipher: CustomerCipher, field: str, ciphertext: bytes, version: int) -> tuple[Any, str]:
    """A field's value and source, opened from its sealed form."""
    stored = json.loads(cipher.open(field_aad_name(field), ciphertext, version))
    return FIELDS[field].decode(_json(stored["value"])), stored["source"]


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
