"""Spotting differencing on the sets: a new count whose customers differ from a recent query's by 1 to k-1.

Counting "A" and then "A minus one customer" isolates that customer; repeated, it narrows in on anyone.
Comparing the predicates' syntax misses every pair spelled differently ("A" against "A or (x and not x)",
an empty `or` alternative, a range against the `in` of its values after a tweak), so the comparison is made
on what the queries match: the customers of the new query and of each of the supplier's recent queries
(a bounded window of its stored answers of the period), counted over the population the new query may see.
When any symmetric difference lies between 1 and k-1, the new answer would differ from the old one by the
contribution of fewer than k customers: it is refused and a strike recorded, whatever the predicates look
like. A difference of 0 (the same customers) or of k or more releases nothing a count of k would not.

Why counts in SQL rather than stored result sets (bitmaps): the differences are computed in the same scan
of the audience index as the new query's own true count, one `count(*) FILTER` per recent query, so
nothing new is kept at rest (no per-supplier sets of customers to encrypt, to expire, to purge on erasure
or to bring back with a restore) and nothing is transferred out of the database but a few integers.

The refusal itself says "these differ by fewer than k": that is the residual leak, bounded because each one
costs a strike and strikes escalate to suspension (`sanctions.status`); answering would say more.
"""

from __future__ import annotations

from collections.abc import Sequence


def is_differencing(difference: int, k: int) -> bool:
    """True when two queries' customers differ by at least one and fewer than k customers."""
    return 1 <= difference < k


def first_differencing(differences: Sequence[int], k: int) -> int | None:
    """The index of the first recent query that the new one differences, or None."""
    return next((i for i, d in enumerate(differences) if is_differencing(d, k)), None)
