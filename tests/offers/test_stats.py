"""Thresholding of offer statistics: a count below k is withheld, never rounded or shown."""

from __future__ import annotations

from infomediary.offers.stats import thresholded


def test_counts_below_k_are_withheld() -> None:
    assert thresholded(0, 10) is None
    assert thresholded(9, 10) is None
    assert thresholded(10, 10) == 10
    assert thresholded(250, 10) == 250
