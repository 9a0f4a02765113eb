"""The relay's tables: suppliers' sending domains, and the messages relayed to customers (sealed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class SupplierSendingDomainRow(Base):
    """The domain a supplier sends relay mail from and the DKIM key its mail must verify with.

    The relay checks a message against this key alone, never DNS: what a supplier bound through its
    authenticated API is what it answers for, and a test or an offline demo needs no resolver.
    """

    __tablename__ = "supplier_sending_domains"

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253))
    selector: Mapped[str] = mapped_column(String(63))
    # The DKIM DNS TXT record of the key (`v=DKIM1; k=rsa; p=...`), handed to the verifier in place of DNS.
    public_key: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RelayedMessageRow(Base):
    """A message relayed to a customer, or her reply relayed to the supplier, for her inbox: sealed under her
    erasure key, so it is unreadable at rest and in backups, and for good once she is erased (the row goes
    with her account)."""

    __tablename__ = "relayed_messages"
    __table_args__ = (Index("ix_relayed_messages_customer_received", "customer_id", "received_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    alias_id: Mapped[str] = mapped_column(ForeignKey("relay_aliases.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    # `received`: a supplier's message to her; `sent`: her reply to the supplier, as the supplier got it.
    direction: Mapped[str] = mapped_column(String(8), default="received", server_default="received")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    size: Mapped[int] = mapped_column(Integer)
    # Subject and sender's display name, sealed apart from the message so that a listing opens only these.
    summary_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    message_sealed: Mapped[bytes] = mapped_column(LargeBinary)


class RelaySettingsRow(Base):
    """What a customer chose for the mail relayed to her; no row is the defaults (remote images blocked)."""

    __tablename__ = "relay_settings"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    # `filtering.ImagePolicy`: "block" or "proxy".
    remote_images: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
