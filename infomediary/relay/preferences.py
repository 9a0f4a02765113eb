"""Her choices for the mail relayed to her: for now, whether remote images are blocked (the default) or
loaded through the broker's proxy."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.relay.filtering import ImagePolicy
from infomediary.relay.models import RelaySettingsRow

DEFAULT_IMAGES = ImagePolicy.BLOCK


def remote_images(session: Session, customer_id: str) -> ImagePolicy:
    chosen = session.scalar(
        select(RelaySettingsRow.remote_images).where(RelaySettingsRow.customer_id == customer_id)
    )
    try:
        return ImagePolicy(chosen) if chosen is not None else DEFAULT_IMAGES
    except ValueError:
        # A value this version does not know is read as the safe default, never as "load".
        return DEFAULT_IMAGES


def set_remote_images(session: WriteSession, customer_id: str, policy: ImagePolicy) -> ImagePolicy:
    row = session.get(RelaySettingsRow, customer_id)
    if row is None:
        session.add(
            RelaySettingsRow(customer_id=customer_id, remote_images=policy.value, updated_at=utcnow())
        )
    else:
        row.remote_images = policy.value
        row.updated_at = utcnow()
    session.flush()
    return policy
