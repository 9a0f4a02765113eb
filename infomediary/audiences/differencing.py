"""Spotting a differencing pattern: pairs of queries that differ in exactly one condition.

Counting "A" and then "A and x" (or "A and x" and "A and not x") isolates the customers matching x within
A; repeated, it narrows in on an individual. Each fresh query is compared with the supplier's earlier
queries of the period, as sets of top-level conditions (`predicate.conjuncts`). Noise and the budget already
bound what such pairs can reveal; counting them lets the broker strike a supplier who keeps trying.
"""

from __future__ import annotations

import json
from collections.abc import Iterable


def _negates(a: str, b: str) -> bool:
    first, second = json.loads(a), json.loads(b)
    return bool(first == {"not": second} or second == {"not": first})


def is_differencing_pair(new: frozenset[str], old: frozenset[str]) -> bool:
    """True when one adds a single condition to the other, or they differ only by one condition's negation."""
    only_new, only_old = new - old, old - new
    if len(only_new) + len(only_old) == 1:
        return True
    if len(only_new) == 1 and len(only_old) == 1:
        return _negates(next(iter(only_new)), next(iter(only_old)))
    return False


def pairs_with(new: frozenset[str], earlier: Iterable[frozenset[str]]) -> int:
    return sum(is_differencing_pair(new, old) for old in earlier)
