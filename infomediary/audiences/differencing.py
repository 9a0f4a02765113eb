"""Spotting differencing on the sets: a new count whose customers differ from a recent query's by 1 to k-1.

Counting "A" and then "A minus one customer" isolates that customer; repeated, it narrows in on anyone.
Comparing the predicates' syntax misses every pair spelled differently ("A" against "A or (x and not x)",
an empty `or` alternative, a range against the `in` of its values after a tweak), so the comparison is made
on what the queries matched: every stored answer keeps the set of customers it counted, as a roaring bitmap
of index member numbers (`AudienceAnswerRow.members`), and a new query's set is compared with those of the
supplier's most recent answers of the period (`audience_differencing_window` of them). When a symmetric
difference lies between 1 and k-1, the new answer would differ from the old one by the contribution of
fewer than k customers: it is refused and a strike recorded, whatever the predicates look like. A
difference of 0 (the same customers) or of k or more releases nothing a count of k would not.

Why bitmaps: the set comes from the count's own scan (the numbers instead of their count), a bitmap of a
million members is at most 128 KiB and usually far less, and comparing one with another is microseconds,
so the window costs a few reads and no second scan. Evaluating the window's predicates in the count's scan
instead (tried first) made the scan visit, and gate, every customer any recent query matched.

The sets hold only member numbers, which the index alone maps back to customers; they are compared only
within their period, and dropped with their answer at the supplier's first spend of the next. The
refusal itself says "these differ by fewer than k": that is the residual leak, bounded because each one
costs a strike and strikes escalate to suspension (`sanctions.status`); answering would say more.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyroaring import BitMap


def is_differencing(difference: int, k: int) -> bool:
    """True when two queries' customers differ by at least one and fewer than k customers."""
    return 1 <= difference < k


def first_differencing(differences: Sequence[int], k: int) -> int | None:
    """The index of the first recent query that the new one differences, or None."""
    return next((i for i, d in enumerate(differences) if is_differencing(d, k)), None)


def differences(new: BitMap, earlier: Sequence[BitMap]) -> list[int]:
    """How many customers one of the two sets holds and the other does not, for each earlier set."""
    return [new.symmetric_difference_cardinality(old) for old in earlier]
