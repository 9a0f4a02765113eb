"""That a customer has a relay address for a supplier, and whether it is on (the table `relay_aliases`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class RelayAliasRow(Base):
    """One relay address: whose, for which supplier, and whether it still takes mail.

    The address itself is not stored: it is an encryption of her customer id and a random marker
    (`aliases.service`), which only the vault's erasure-key store maps to `customer_id`. Nor is the marker
    in clear: an address a supplier kept opens (under the relay key) to her customer id and its marker, and
    a backup holding the marker beside `customer_id` would tie the address to every row of hers after her
    erasure. So the row keeps the marker sealed, and a tag of it, both under her erasure key: the relay
    finds the row by the tag while she exists, and nobody can compute it once her key is destroyed.
    """

    __tablename__ = "relay_aliases"
    __table_args__ = (
        UniqueConstraint("customer_id", "supplier_id", name="uq_relay_aliases_customer_supplier"),
        Index("ix_relay_aliases_customer_marker", "customer_id", "marker_tag"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    # The 8 random bytes sealed with her customer id into the address (which of her addresses mail names):
    # `Vault.tag_bound` of them, to find the row, and `Vault.seal_bound`, to make the address again.
    marker_tag: Mapped[bytes] = mapped_column(LargeBinary(32))
    marker_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    switched_off_at: Mapped[datetime | None] = mapped_column(default=None)
