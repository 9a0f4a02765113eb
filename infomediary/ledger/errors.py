"""Errors of the rewards ledger."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError


class UnbalancedTransaction(DomainError):
    """A caller inside the broker built postings that do not balance: a bug, never a customer's input."""

    status = 500
    slug = "unbalanced-transaction"
    title = "A ledger transaction's postings must be non-zero and sum to zero"


class IdempotencyKeyReused(Conflict):
    slug = "idempotency-key-reused"
    title = "This Idempotency-Key was already used for a different request"


class CreditLineExceeded(DomainError):
    status = 402
    slug = "credit-line-exceeded"
    title = "The supplier's balance would fall below its credit line"


class InsufficientCredits(DomainError):
    status = 402
    slug = "insufficient-credits"
    title = "The customer's balance is too low for this"


class IdempotencyKeyRequired(DomainError):
    status = 400
    slug = "idempotency-key-required"
    title = "Money-moving requests need an Idempotency-Key header"
