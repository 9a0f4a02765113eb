"""Differentially private top-k selection, with OpenDP: which candidates score highest, never their scores.

The scores are per-candidate counts of distinct customers, bounded by `bounded_scores`: each customer adds at
most 1 to a candidate's score and touches at most `per_customer` candidates. Adding or removing one customer
therefore moves every score by at most 1 (L-infinity sensitivity 1; L1 at most `per_customer`). The scores are
not treated as monotone: when the population is capped, removing one customer can let another one in, so
some scores may fall while others rise; OpenDP's non-monotone L-infinity metric accounts for that (it doubles
the cost of each selection).

`noisy_top_k` runs OpenDP's `make_noisy_top_k` (peeling report-noisy-max with exponential noise under
`max_divergence`): k selections of scale `s` cost `2 * k / s` epsilon together, so the scale is set from
the epsilon to charge and OpenDP's own privacy map confirms it. A constant "stop" candidate scored
`threshold` joins the vector: it is the noisy threshold of the mechanism (its score does not depend on
anyone, so the sensitivity is unchanged), and what ranks after it is cut off, which is post-processing and
free. The threshold only keeps noise-drawn items out of a small audience's list; privacy rests on the draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import opendp.prelude as dp

from infomediary.audiences.noise import MILLI

dp.enable_features("contrib")


def bounded_scores(
    contributions: Iterable[Mapping[str, float]], candidates: Sequence[str], per_customer: int
) -> list[int]:
    """For each candidate, how many customers have it among their `per_customer` strongest items.

    Each mapping is one customer's weights per item. Her items are chosen from her own weights alone (the
    heaviest, ties by item id), never from anyone else's data, so one customer's presence changes the scores
    by at most 1 each, on at most `per_customer` candidates. Items outside `candidates` count for nothing.
    """
    index = {item: i for i, item in enumerate(candidates)}
    scores = [0] * len(candidates)
    for weights in contributions:
        mine = sorted((item for item in weights if item in index), key=lambda i: (-weights[i], i))
        for item in mine[:per_customer]:
            scores[index[item]] += 1
    return scores


@cache
def _mechanism(k: int, epsilon_milli: int) -> Any:
    # Non-monotone: each selection costs 2 / scale, so k of them cost 2k / scale (see the module docstring).
    scale = 2 * k * MILLI / epsilon_milli
    measurement = dp.m.make_noisy_top_k(
        dp.vector_domain(dp.atom_domain(T=int)),
        dp.linf_distance(T=int, monotonic=False),
        dp.max_divergence(),
        k=k,
        scale=scale,
    )
    spent = measurement.map(1)  # type: ignore[no-untyped-call]
    assert spent <= epsilon_milli / MILLI + 1e-9
    return measurement


def noisy_top_k(scores: Sequence[int], k: int, threshold: int, epsilon_milli: int) -> list[int]:
    """Indices of at most `k` candidates in released order, the whole draw `epsilon_milli`/1000-DP.

    `scores` must come from `bounded_scores` (or anything else of L-infinity sensitivity 1). The selection
    stops at the noisy threshold: candidates drawn after the stop candidate are not released.
    """
    stop = len(scores)
    picks = min(k, stop + 1)
    drawn = _mechanism(picks, epsilon_milli)([*scores, threshold])
    released: list[int] = []
    for index in drawn:
        if index == stop:
            break
        released.append(int(index))
    return released
