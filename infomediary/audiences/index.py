"""Keeping the audience index in step with the vault, one customer at a time, inside the caller's transaction.

The application's flows (`infomediary.flows`) call one function here when the vault, a restriction or
consent changes what a customer's row should say. Values are decrypted only here, at write time, and reduced
at once to the generalised values of `dimensions`; counting then reads the index alone.

Consent is not copied into the index: the consent set filter is applied at query time, so a withdrawal is
in force for the very next count by construction. What the index does on consent changes is retire cached
answers (`population_changed`), so no later answer, cached or fresh, includes a customer who left.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from infomediary.audiences import dimensions as dims
from infomediary.audiences.models import EPOCH_ROW, AudienceEpochRow, AudienceIndexRow
from infomediary.database import WriteSession, upsert_insert, utcnow
from infomediary.profiles import datakeys, insights, repository
from infomediary.profiles.fields import field_aad_name
from infomediary.profiles.models import ProcessingRestriction
from infomediary.runtime import Runtime

# The only profile fields the index derives from; nothing else is decrypted for it.
SOURCE_FIELDS = ("birth_date", "gender", "postal_code", "interests")


@dataclass(frozen=True)
class IndexValues:
    """A customer's row as generalised values (what `audience_index` stores)."""

    age_band: str | None
    gender: str | None
    postal_prefix: str | None
    interests: int
    rfm_recency_band: int | None
    rfm_frequency_band: int | None
    rfm_monetary_band: int | None


def derive(
    profile: Mapping[str, Any],
    *,
    recency_days: int | None,
    frequency: int,
    monetary: int,
    today: date,
) -> IndexValues:
    """Generalise decrypted profile values and purchase figures; pure, so the demo seeder can use it too."""
    birth = profile.get("birth_date")
    postal = profile.get("postal_code")
    return IndexValues(
        age_band=dims.age_band(date.fromisoformat(birth), today) if isinstance(birth, str) else None,
        gender=profile.get("gender") if profile.get("gender") in dims.GENDERS else None,
        postal_prefix=dims.postal_prefix(postal) if isinstance(postal, str) else None,
        interests=dims.interest_mask(list(profile.get("interests") or [])),
        rfm_recency_band=dims.recency_band(recency_days),
        rfm_frequency_band=dims.frequency_band(frequency),
        rfm_monetary_band=dims.monetary_band(monetary),
    )


def refresh(session: WriteSession, runtime: Runtime, customer_id: str, now: datetime | None = None) -> bool:
    """Recompute the customer's row from the vault (no row while processing is restricted).

    True when the customer's RFM band rose: they entered the "RFM band rose" segment, which the caller
    (`flows.profile_changed.reindex`) tells subscribed suppliers.
    """
    now = now or utcnow()
    if session.get(ProcessingRestriction, customer_id) is not None:
        remove(session, customer_id)
        return False
    cipher = datakeys.cipher_for(session, runtime, customer_id)
    profile: dict[str, Any] = {}
    for row in repository.profile_fields(session, customer_id):
        if row.field in SOURCE_FIELDS:
            sealed = json.loads(cipher.open(field_aad_name(row.field), row.ciphertext, row.schema_version))
            profile[row.field] = sealed["value"]
    values = from_insights(profile, insights.derive(session, runtime, customer_id, now), now.date())
    before = session.get(AudienceIndexRow, customer_id)
    rose = band_rose(before, values)
    store(session, [(customer_id, values)], now)
    return rose


def band_rose(before: AudienceIndexRow | None, after: IndexValues) -> bool:
    """Frequency or monetary band went up (recency moves with the calendar, so it does not count)."""
    old_f = (before.rfm_frequency_band if before else None) or 0
    old_m = (before.rfm_monetary_band if before else None) or 0
    return (after.rfm_frequency_band or 0) > old_f or (after.rfm_monetary_band or 0) > old_m


def from_insights(profile: Mapping[str, Any], figures: insights.Insights, today: date) -> IndexValues:
    """The row for decrypted profile values and the customer's purchase figures; pure (the seeder's too)."""
    # Bands read the largest spend among currencies: coarse on purpose, and one band per customer.
    monetary = max((m.amount for m in figures.monetary), default=0)
    return derive(
        profile,
        recency_days=figures.recency_days,
        frequency=figures.frequency,
        monetary=monetary,
        today=today,
    )


def store(
    session: WriteSession, rows: Iterable[tuple[str, IndexValues]], now: datetime | None = None
) -> None:
    """Insert or replace index rows (one statement per batch: the seeder passes thousands)."""
    payload = [{"customer_id": cid, **asdict(values), "updated_at": now or utcnow()} for cid, values in rows]
    if not payload:
        return
    statement = upsert_insert(session, AudienceIndexRow)
    changed = {key: statement.excluded[key] for key in payload[0] if key != "customer_id"}
    session.execute(statement.on_conflict_do_update(index_elements=["customer_id"], set_=changed), payload)


def remove(session: WriteSession, customer_id: str) -> None:
    """Drop the customer's row (restriction, erasure) and retire the answers that counted them."""
    session.execute(delete(AudienceIndexRow).where(AudienceIndexRow.customer_id == customer_id))
    population_changed(session)


def population_changed(session: WriteSession) -> None:
    """A customer may have left the countable population: cached answers computed before now are retired.

    One row, bumped in the caller's transaction: the consent services already serialise on the policy-log
    state row, so this adds no new contention.
    """
    bumped = session.execute(
        update(AudienceEpochRow)
        .where(AudienceEpochRow.id == EPOCH_ROW)
        .values(epoch=AudienceEpochRow.epoch + 1)
    )
    if getattr(bumped, "rowcount", 1) == 0:
        session.execute(
            upsert_insert(session, AudienceEpochRow)
            .values(id=EPOCH_ROW, epoch=1)
            .on_conflict_do_update(index_elements=["id"], set_={"epoch": AudienceEpochRow.epoch + 1})
        )


# Built once: every count reads it.
_EPOCH = select(AudienceEpochRow.epoch).where(AudienceEpochRow.id == EPOCH_ROW)


def current_epoch(session: Session) -> int:
    return int(session.scalar(_EPOCH) or 0)
