"""The noise is real: OpenDP's discrete Laplace, centred on the truth, with the spread epsilon implies."""

from __future__ import annotations

import statistics

from infomediary.audiences.noise import noisy_count


def test_noise_is_applied_and_centred() -> None:
    answers = [noisy_count(1000, 500) for _ in range(2000)]
    assert len(set(answers)) > 10
    assert abs(statistics.mean(answers) - 1000) < 0.5
    # Laplace with scale b = 1/epsilon = 2 has mean absolute deviation b.
    assert 1.6 < statistics.mean(abs(a - 1000) for a in answers) < 2.4


def test_noisy_counts_are_never_negative() -> None:
    assert min(noisy_count(0, 100) for _ in range(200)) == 0
