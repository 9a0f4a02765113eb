"""Errors of vouchers: each says what the customer or the supplier can do about it."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, NotFound


class VoucherNotFound(NotFound):
    """An unknown code and another supplier's voucher get this same answer: a 404 is no oracle."""

    slug = "voucher-not-found"
    title = "No voucher of yours has this code"


class VoucherAlreadyRedeemed(Conflict):
    slug = "voucher-already-redeemed"
    title = "This voucher was already redeemed"


class VoucherExpired(DomainError):
    status = 410
    slug = "voucher-expired"
    title = "This voucher has expired"


class InvalidVoucher(DomainError):
    """A voucher the service will not issue (a value or lifetime out of bounds, a supplier that cannot take
    it); the request changed nothing."""

    status = 400
    slug = "invalid-voucher"
    title = "This voucher cannot be issued"


class VoucherCodeMalformed(DomainError):
    status = 400
    slug = "voucher-code-malformed"
    title = "This is not a voucher code"
