"""The recommenders against real data: MovieLens 100K, each user's latest ratings held out, loaded and
ranked through the broker's service functions. Skips when the data has not been fetched (it is never
committed: `python -m bench.movielens` fetches it)."""

from __future__ import annotations

import pytest

from bench import movielens, recommend_eval

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not movielens.present(),
        reason="MovieLens 100K is absent (licence forbids committing it): run `python -m bench.movielens`",
    ),
]


def test_the_best_recommender_beats_popularity_by_30_percent_on_ndcg() -> None:
    results = recommend_eval.run()["results"]
    popularity = results["popularity"][0]
    best = max(ndcg for name, (ndcg, _) in results.items() if name != "popularity")
    assert popularity > 0
    assert best >= recommend_eval.GOAL * popularity, results
