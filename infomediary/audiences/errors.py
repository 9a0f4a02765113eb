"""Errors of the audience domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infomediary.errors import TooManyRequests


class BudgetExhausted(TooManyRequests):
    """The supplier spent its epsilon budget for the period.

    A recorded refusal (`DomainError.recording`): the strike for budget abuse, once per period, and its
    log entry survive the refusal.
    """

    slug = "epsilon-budget-exhausted"
    title = "The privacy budget for this period is spent"

    def __init__(self, *, resets_at: datetime, retry_after: int, **extensions: Any) -> None:
        super().__init__(
            "no audience count can be answered until the budget resets",
            retry_after=retry_after,
            resets_at=resets_at.isoformat().replace("+00:00", "Z"),
            **extensions,
        )
