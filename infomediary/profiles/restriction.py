"""The right to restrict processing: while restricted, no supplier may use the customer's data.

The consent engine's decision point honours it (``is_restricted``), and a restricted customer has no row
in the audience index: `flows.restriction_changed` removes the row on restricting and rebuilds it on lifting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.profiles import repository
from infomediary.profiles.models import ProcessingRestriction


@dataclass(frozen=True)
class RestrictionView:
    restricted: bool
    since: datetime | None


def describe(session: Session, customer_id: str) -> RestrictionView:
    row = repository.restriction(session, customer_id)
    return RestrictionView(restricted=row is not None, since=row.restricted_at if row else None)


def is_restricted(session: Session, customer_id: str) -> bool:
    return repository.is_restricted(session, customer_id)


def restricted_among(session: Session, customer_ids: Sequence[str]) -> set[str]:
    return repository.restricted_among(session, customer_ids)


def restrict(session: WriteSession, customer_id: str, now: datetime | None = None) -> RestrictionView:
    """Idempotent: restricting again keeps the original time."""
    if repository.restriction(session, customer_id) is None:
        session.add(ProcessingRestriction(customer_id=customer_id, restricted_at=now or utcnow()))
        session.flush()
    return describe(session, customer_id)


def lift(session: WriteSession, customer_id: str) -> RestrictionView:
    row = repository.restriction(session, customer_id)
    if row is not None:
        session.delete(row)
        session.flush()
    return describe(session, customer_id)
