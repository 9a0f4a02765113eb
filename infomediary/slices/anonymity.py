"""k-anonymity of a slice: climb the generalisation ladder, then suppress classes still below k.

Pure: rows in, rows out. Global recoding (one level for the whole slice) keeps one meaning per value: a
supplier never sees "30-39" beside "20-39" for the same slice. The level rises one step for every
quasi-identifier at once until the rows in classes below k are few enough to suppress (a settings
fraction) or the ladder ends; then those rows are suppressed (not released at all).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass

# Builds a row at a generalisation level: (source index, level) -> the row's quasi-identifier tuple.
QuasiIdentifiers = Callable[[int, int], tuple[Hashable, ...]]


@dataclass(frozen=True)
class Anonymised:
    """Which source rows are released, at which level, and how many were suppressed."""

    released: list[int]
    level: int
    suppressed: int


def enforce(
    count: int, quasi_identifiers: QuasiIdentifiers, k: int, max_level: int, max_suppressed: float = 0.0
) -> Anonymised:
    """Indexes of the `count` rows released so that each quasi-identifier class holds at least `k` rows.

    The lowest level at which at most `max_suppressed` (a fraction) of the rows fall in classes below k is
    chosen, so that a few outliers are suppressed rather than coarsening every row; at the top of the
    ladder whatever is still below k is suppressed regardless.
    """
    allowed = int(max_suppressed * count)
    level = 0
    while True:
        keys = [quasi_identifiers(i, level) for i in range(count)]
        sizes = Counter(keys)
        released = [i for i, key in enumerate(keys) if sizes[key] >= k]
        if count - len(released) <= allowed or level >= max_level:
            return Anonymised(released=released, level=level, suppressed=count - len(released))
        level += 1
