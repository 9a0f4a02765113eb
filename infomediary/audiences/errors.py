"""Errors of the audience domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infomediary.errors import Forbidden, TooManyRequests


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


class DifferencingRefused(Forbidden):
    """The query's customers differ from those of one of the supplier's recent queries by fewer than k.

    A recorded refusal: the strike and its log entry survive it. Nothing is spent or stored. The detail
    does not say which earlier query, nor by how many: that would be a finer oracle than the refusal.
    """

    slug = "differencing-refused"
    title = "The query differs from a recent one by too few customers"

    def __init__(self, *, k: int) -> None:
        super().__init__(
            f"its customers differ from those of one of your recent queries by fewer than {k}; "
            "answering would isolate them",
            minimum_cohort=k,
        )
