"""The voucher table: one row per voucher, keyed by a random id, linked to no customer in the clear.

Whose voucher it is lives only in values bound to her erasure key (`Vault.tag_bound`, `Vault.seal_bound`):
`holder_tag` finds her vouchers while she exists, `issue_tag` finds the voucher an Idempotency-Key of hers
made, `code_sealed` shows her the code again. Nobody can compute or open them once her key is destroyed, and
her erasure clears them as well (`service.release_holder`), so neither the database nor a backup of it ties
a voucher to her after that.

There is no issue time on purpose: the ledger transaction that paid for the voucher has one, and the two
times side by side would join the voucher to her account. Expiry is kept to the day for the same reason
(`service.expiry`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base


class VoucherRow(Base):
    __tablename__ = "vouchers"
    __table_args__ = (Index("ix_vouchers_holder_tag", "holder_tag"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"), index=True)
    value: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    # HMAC of the code under the `voucher_code` service secret (`code.code_hash`): looked up, never shown.
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    holder_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    issue_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    code_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # SHA-256 of what was asked (supplier, value, days): a repeated key with other content is a conflict.
    fingerprint: Mapped[str] = mapped_column(String(64))
    redeemed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The supplier's Idempotency-Key of the redemption: its repeat is answered again, another key is a 409.
    redemption_key: Mapped[str | None] = mapped_column(String(200), default=None)
    refunded_at: Mapped[datetime | None] = mapped_column(default=None)
