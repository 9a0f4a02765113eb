"""The individual privacy filter, pure: who may be included in the next release, and the losses after it.

Feldman and Zrnic ("Individual Privacy Accounting via a Rényi Filter", NeurIPS 2021) show that a customer's
privacy loss can be accounted from the releases that actually depended on her, rather than the worst case
over everyone, and that composition stays sound if she is dropped from every further release once her own
accumulated loss would pass her budget: a filter. Each release here is pure epsilon-DP with respect to
adding or removing one customer, and its individual loss for a customer is its epsilon if she is in the
release's population (her data can move the answer) and 0 if she is not (it cannot), so the loss adds up
as epsilons in milli-epsilon integers, and the filter admits her to a release of epsilon e only while
loss + e <= cap.

The losses of one period are a dense array indexed by the audience index's member numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from pyroaring import BitMap

Losses = NDArray[np.uint32]


def grown(losses: Losses, members: BitMap) -> Losses:
    """`losses`, extended with zeros so that every member number of `members` indexes it."""
    needed = (members.max() + 1) if members else 0
    if needed <= len(losses):
        return losses
    wider = np.zeros(max(needed, 2 * len(losses)), dtype=np.uint32)
    wider[: len(losses)] = losses
    return wider


def admit(
    losses: Losses, members: BitMap, epsilon_milli: int, default_cap_milli: int, caps: Mapping[int, int]
) -> tuple[Losses, BitMap]:
    """The members whose loss stays within their cap after a release of `epsilon_milli`, and the losses
    with that epsilon added to each of them (the array may be replaced by a longer one).

    `caps` holds the customers' own caps by member number; everyone else has `default_cap_milli`.
    """
    losses = grown(losses, members)
    if not members:
        return losses, BitMap()
    numbers = np.frombuffer(members.to_array(), dtype=np.uint32).astype(np.int64)
    limit = np.full(len(numbers), default_cap_milli, dtype=np.int64)
    if caps:
        # Members are sorted (a bitmap iterates in order): find each customer's own cap by bisection.
        own = np.fromiter(caps.keys(), dtype=np.int64, count=len(caps))
        values = np.fromiter(caps.values(), dtype=np.int64, count=len(caps))
        at = np.searchsorted(numbers, own)
        present = at < len(numbers)
        present[present] = numbers[at[present]] == own[present]
        limit[at[present]] = values[present]
    fits = losses[numbers].astype(np.int64) + epsilon_milli <= limit
    losses[numbers[fits]] += np.uint32(epsilon_milli)
    if fits.all():
        return losses, members
    # Usually few are over their cap: the admitted set is the members less those few.
    return losses, members - BitMap(numbers[~fits].tolist())
