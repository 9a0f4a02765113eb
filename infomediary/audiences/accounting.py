"""Individual privacy accounting for the broker's DP releases: every release that includes a customer is
charged to her own account (`privacy_loss`), and she drops out of releases once her cap is reached.

The releases it covers: fresh audience counts, offers' statistics (the first of which is the figure an
offer's audience charge pays for) and audience top items. Each passes the customers its answer would
depend on (as index member numbers); the filter admits those still within their cap, and the release is
computed over the admitted ones only. A cached answer is no new release and charges no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pyroaring import BitMap
from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.audiences import budget
from infomediary.audiences.models import AudienceIndexRow
from infomediary.audiences.noise import MILLI
from infomediary.database import WriteSession
from infomediary.errors import DomainError
from infomediary.privacy_loss import service as privacy_loss
from infomediary.privacy_loss.models import PrivacyLossCap
from infomediary.settings import Settings

AGGREGATE_COUNT = "aggregate_count"
OFFER_STATISTICS = "offer_statistics"
AUDIENCE_ITEMS = "audience_items"


def default_cap_milli(settings: Settings) -> int:
    return round(settings.privacy_loss_cap * MILLI)


def _member_caps(session: Session) -> dict[int, int]:
    """The customers' own caps, by member number (the few who set one)."""
    rows = session.execute(
        select(AudienceIndexRow.member_no, PrivacyLossCap.cap_milli).join(
            AudienceIndexRow, AudienceIndexRow.customer_id == PrivacyLossCap.customer_id
        )
    )
    return {int(member): int(cap) for member, cap in rows if member is not None}


def _members_of(session: Session, customer_ids: Iterable[str]) -> dict[str, int]:
    """Customer id -> index member number, for the given customers who are in the index."""
    ids = list(customer_ids)
    found: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(AudienceIndexRow.customer_id, AudienceIndexRow.member_no).where(
                AudienceIndexRow.customer_id.in_(ids[start : start + 500])
            )
        )
        found.update({cid: int(member) for cid, member in rows if member is not None})
    return found


def admit(
    session: WriteSession,
    settings: Settings,
    *,
    supplier_id: str,
    kind: str,
    epsilon_milli: int,
    members: BitMap,
    now: datetime,
) -> BitMap:
    """The members admitted to (and charged for) a release of `epsilon_milli` by `supplier_id`."""
    return privacy_loss.release(
        session,
        supplier_id=supplier_id,
        period_start=budget.period_of(now, settings).start,
        kind=kind,
        epsilon_milli=epsilon_milli,
        members=members,
        default_cap_milli=default_cap_milli(settings),
        caps=_member_caps(session),
        now=now,
    )


def admit_customers(
    session: WriteSession,
    settings: Settings,
    *,
    supplier_id: str,
    kind: str,
    epsilon_milli: int,
    customer_ids: Iterable[str],
    now: datetime,
) -> set[str]:
    """`admit` for a release whose population is known by customer id (an offer's delivered customers, an
    audience's interactions): the ids admitted. A customer without an index row (restricted processing)
    is in no release."""
    numbers = _members_of(session, customer_ids)
    admitted = admit(
        session,
        settings,
        supplier_id=supplier_id,
        kind=kind,
        epsilon_milli=epsilon_milli,
        members=BitMap(numbers.values()),
        now=now,
    )
    return {customer for customer, number in numbers.items() if number in admitted}


def account_of(session: Session, settings: Settings, customer_id: str, now: datetime) -> privacy_loss.Account:
    """The customer's privacy loss in the current period, by supplier and against her cap."""
    member = session.scalar(
        select(AudienceIndexRow.member_no).where(AudienceIndexRow.customer_id == customer_id)
    )
    return privacy_loss.account(
        session,
        customer_id=customer_id,
        member_no=None if member is None else int(member),
        period_start=budget.period_of(now, settings).start,
        default_cap_milli=default_cap_milli(settings),
    )


class CapOutOfRange(DomainError):
    status = 422
    slug = "privacy-loss-cap-out-of-range"
    title = "The privacy-loss cap is out of range"


def set_own_cap(
    session: WriteSession, settings: Settings, customer_id: str, epsilon: float | None, now: datetime
) -> privacy_loss.Account:
    """Set the customer's own cap (None: the operator's default again); her account as it now stands.

    A lower cap takes effect at the next release: a customer already past it is left out of every further
    release of the period, and nothing she was charged before is undone (it was released).
    """
    if epsilon is not None and not 0 <= epsilon <= settings.privacy_loss_cap_max:
        raise CapOutOfRange(
            f"the cap must be between 0 and {settings.privacy_loss_cap_max:g} epsilon per period",
            maximum=settings.privacy_loss_cap_max,
        )
    privacy_loss.set_cap(session, customer_id, None if epsilon is None else round(epsilon * MILLI), now)
    return account_of(session, settings, customer_id, now)
