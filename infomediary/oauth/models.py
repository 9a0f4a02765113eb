"""OAuth clients (one per supplier or auditor credential) and revoked token ids."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class ClientKind(enum.StrEnum):
    SUPPLIER = "supplier"
    AUDITOR = "auditor"


class OAuthClient(Base):
    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint(
            "(supplier_id IS NOT NULL AND auditor_id IS NULL) "
            "OR (supplier_id IS NULL AND auditor_id IS NOT NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of a 256-bit random secret, compared in constant time; a slow hash adds nothing at that entropy.
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(16))
    supplier_id: Mapped[str | None] = mapped_column(
        ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    auditor_id: Mapped[str | None] = mapped_column(ForeignKey("auditors.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the secret was last replaced (the supplier console's "rotate"); None while it is the first one.
    secret_rotated_at: Mapped[datetime | None] = mapped_column(default=None)


class RevokedToken(Base):
    """A revoked access token id (RFC 7009), kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
