"""The DP top-k selection: bounded contributions, a strong signal still wins, the noisy threshold stops the
list, and neighbouring audiences (one customer more or less) give rankings whose frequencies stay within
e^epsilon of each other, where the exact ranking it replaces tells them apart every time."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from infomediary.audiences.topk import bounded_scores, noisy_top_k

EPSILON_MILLI = 1000
DRAWS = 20_000

Outcome = tuple[int, ...]


def _frequencies(draw: Callable[[], Sequence[int]]) -> dict[Outcome, float]:
    counted = Counter(tuple(draw()) for _ in range(DRAWS))
    return {outcome: n / DRAWS for outcome, n in counted.items()}


def _excess(a: dict[Outcome, float], b: dict[Outcome, float], epsilon: float) -> float:
    """How far any outcome's frequency exceeds e^epsilon times its frequency under the neighbour."""
    bound = math.exp(epsilon)
    return max(
        max(a.get(o, 0.0) - bound * b.get(o, 0.0), b.get(o, 0.0) - bound * a.get(o, 0.0)) for o in {*a, *b}
    )


def _exact_floor(scores: Sequence[int], k: int, floor: int) -> list[int]:
    """The release this mechanism replaced: exact ranking, exact floor."""
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [i for i in ranked if scores[i] >= floor][:k]


# Item scores of an audience, and of the same audience without one customer who viewed items 0 and 1
# (removal) or with her replaced by another who viewed item 2 (the population cap lets one in).
AUDIENCE = [3, 2, 0]
WITHOUT_HER = [2, 1, 0]
SWAPPED = [2, 2, 1]


def test_neighbouring_audiences_rank_alike_within_e_to_the_epsilon() -> None:
    epsilon = EPSILON_MILLI / 1000
    # Slack for sampling: a frequency of at most 1 has a standard error under 0.0036 at 20,000 draws.
    slack = 0.02
    released = _frequencies(lambda: noisy_top_k(AUDIENCE, 2, 2, EPSILON_MILLI))
    for neighbour in (WITHOUT_HER, SWAPPED):
        theirs = _frequencies(lambda: noisy_top_k(neighbour, 2, 2, EPSILON_MILLI))  # noqa: B023
        assert _excess(released, theirs, epsilon) <= slack
    # The attack works on the exact ranking with a floor: her presence flips an outcome from never to always.
    exact = _frequencies(lambda: _exact_floor(AUDIENCE, 2, 2))
    exact_without = _frequencies(lambda: _exact_floor(WITHOUT_HER, 2, 2))
    assert _excess(exact, exact_without, epsilon) >= 0.99


def test_a_strong_preference_comes_first() -> None:
    scores = [0] * 20 + [400] + [0] * 20
    assert all(noisy_top_k(scores, 3, 5, EPSILON_MILLI)[0] == 20 for _ in range(300))


def test_the_noisy_threshold_stops_the_list() -> None:
    # Nothing comes near the threshold: every draw stops at once and releases no item.
    assert all(noisy_top_k([0] * 30, 10, 1000, EPSILON_MILLI) == [] for _ in range(300))
    # A single clear winner above it, and nothing else.
    assert all(noisy_top_k([0, 2000, 0], 3, 1000, EPSILON_MILLI) == [1] for _ in range(300))


def test_at_most_k_distinct_candidates_are_released() -> None:
    for _ in range(300):
        picked = noisy_top_k([5, 4, 3, 2, 1], 3, -1000, EPSILON_MILLI)
        assert len(picked) == 3 and len(set(picked)) == 3 and set(picked) <= set(range(5))


ITEMS = [f"sku:{i}" for i in range(6)]
histories = st.lists(
    st.dictionaries(st.sampled_from([*ITEMS, "other:1"]), st.floats(0.5, 20), max_size=7), max_size=8
)


@settings(max_examples=200, deadline=None)
@given(histories, st.integers(1, 4), st.data())
def test_one_customer_moves_each_score_by_at_most_one(
    customers: list[dict[str, float]], per_customer: int, data: st.DataObject
) -> None:
    scores = bounded_scores(customers, ITEMS, per_customer)
    assert sum(scores) <= per_customer * len(customers) and max(scores, default=0) <= len(customers)
    if not customers:
        return
    gone = data.draw(st.integers(0, len(customers) - 1))
    without = bounded_scores(customers[:gone] + customers[gone + 1 :], ITEMS, per_customer)
    moved = [a - b for a, b in zip(scores, without, strict=True)]
    assert all(m in (0, 1) for m in moved) and sum(moved) <= per_customer
