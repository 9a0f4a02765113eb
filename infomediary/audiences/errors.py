"""Errors of the audience domain."""

from __future__ import annotations

from infomediary.audiences.standing import Standing, rfc3339
from infomediary.errors import Forbidden, TooManyRequests


class BudgetExhausted(TooManyRequests):
    """The supplier spent its epsilon budget for the period.

    Not a sanction: reaching the limit is what a budget is for, so the refusal records nothing. It carries
    the budget's standing in its headers, like every answer that may spend it (`audiences.standing`).
    """

    slug = "epsilon-budget-exhausted"
    title = "The privacy budget for this period is spent"

    def __init__(self, *, standing: Standing, retry_after: int) -> None:
        super().__init__(
            "no answer that spends epsilon can be given until the budget resets",
            retry_after=retry_after,
            resets_at=rfc3339(standing.resets_at),
            epsilon_remaining=standing.remaining,
        )
        self.headers.update(standing.headers())


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
