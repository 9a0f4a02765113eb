"""k-anonymity by global recoding: the lowest level of the ladder that reaches k, never a level above its top,
and whatever is still below k suppressed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

from hypothesis import given
from hypothesis import strategies as st

from infomediary.slices.anonymity import Anonymised, enforce

Ladder = Sequence[Sequence[Hashable]]  # rows, each the row's quasi-identifier value at level 0, 1, 2...


def run(rows: Ladder, k: int, max_level: int, max_suppressed: float = 0.0) -> tuple[Anonymised, set[int]]:
    """enforce() over explicit per-level values; also returns the levels it asked for."""
    asked: set[int] = set()

    def quasi_identifiers(index: int, level: int) -> tuple[Hashable, ...]:
        asked.add(level)
        return (rows[index][level],)

    return enforce(len(rows), quasi_identifiers, k, max_level, max_suppressed), asked


def test_a_slice_already_k_anonymous_is_not_coarsened() -> None:
    rows = [("a", "ab", "*")] * 3 + [("b", "ab", "*")] * 3
    result, asked = run(rows, k=3, max_level=2)
    assert result == Anonymised(released=list(range(6)), level=0, suppressed=0)
    assert asked == {0}


def test_the_lowest_sufficient_level_is_chosen_not_a_coarser_one() -> None:
    rows = [("a", "ab", "*")] * 2 + [("b", "ab", "*")] * 2 + [("c", "c", "*")] * 4
    result, asked = run(rows, k=3, max_level=2)
    assert (result.level, result.suppressed, result.released) == (1, 0, list(range(8)))
    assert asked == {0, 1}


def test_a_ladder_that_never_reaches_k_stops_at_its_top_and_suppresses_the_rest() -> None:
    rows = [("a", "a", "a")] * 4 + [("b", "b", "b")] * 2
    result, asked = run(rows, k=3, max_level=2)
    assert (result.level, result.suppressed, result.released) == (2, 2, [0, 1, 2, 3])
    assert asked == {0, 1, 2}  # never a level the ladder does not have


def test_a_ladder_of_one_level_is_never_climbed() -> None:
    result, asked = run([("a",), ("b",)], k=2, max_level=0)
    assert (result.level, result.suppressed, result.released) == (0, 2, [])
    assert asked == {0}


def test_a_few_outliers_are_suppressed_rather_than_coarsening_every_row() -> None:
    rows = [("a", "ab")] * 19 + [("z", "ab")]
    # 10% of 20 rows may go: the one outlier is suppressed at level 0.
    assert run(rows, k=5, max_level=1, max_suppressed=0.1)[0] == Anonymised(list(range(19)), 0, 1)
    # Without that allowance the whole slice is coarsened instead, and the outlier is kept.
    assert run(rows, k=5, max_level=1)[0] == Anonymised(list(range(20)), 1, 0)


def test_the_suppression_allowance_rounds_down() -> None:
    rows = [("a", "*")] * 18 + [("y", "*"), ("z", "*")]
    # 0.1 * 19 = 1.9 rows: only one row may be suppressed, and two would be at level 0.
    assert run(rows[1:], k=5, max_level=1, max_suppressed=0.1)[0].level == 1
    # 0.1 * 20 = 2 rows: exactly the allowance, so level 0 stands.
    assert run(rows, k=5, max_level=1, max_suppressed=0.1)[0] == Anonymised(list(range(18)), 0, 2)


# Rows built from nested bands, as the generalisers make them: level 1 merges level-0 classes in pairs,
# level 2 merges everything.
nested_rows = st.lists(st.integers(0, 7).map(lambda v: (v, v // 2, 0)), max_size=40)


@given(nested_rows, st.integers(1, 6), st.integers(0, 2), st.sampled_from([0.0, 0.05, 0.1, 0.5]))
def test_enforce_releases_k_anonymous_rows_at_the_lowest_acceptable_level(
    rows: list[tuple[int, int, int]], k: int, max_level: int, max_suppressed: float
) -> None:
    result, asked = run(rows, k, max_level, max_suppressed)
    allowed = int(max_suppressed * len(rows))

    def suppressed_at(level: int) -> int:
        sizes = Counter(row[level] for row in rows)
        return sum(1 for row in rows if sizes[row[level]] < k)

    assert 0 <= result.level <= max_level
    assert asked <= set(range(result.level + 1))  # no level above the one reported was even looked at
    sizes = Counter(rows[i][result.level] for i in result.released)
    assert all(size >= k for size in sizes.values())
    assert result.suppressed == len(rows) - len(result.released) == suppressed_at(result.level)
    # Every lower level would have suppressed too much; the chosen one does not, unless it is the top.
    assert all(suppressed_at(level) > allowed for level in range(result.level))
    assert result.suppressed <= allowed or result.level == max_level
