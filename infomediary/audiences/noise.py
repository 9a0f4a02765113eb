"""Differential-privacy noise for counts, with OpenDP: the discrete Laplace (geometric) mechanism.

A distinct count has sensitivity 1 (adding or removing one customer moves it by at most one), so noise of
scale 1/epsilon makes one answer epsilon-differentially private. OpenDP draws from a CSPRNG: there is no
seed to set or to leak.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import opendp.prelude as dp

dp.enable_features("contrib")

MILLI = 1000


@cache
def _mechanism(epsilon_milli: int) -> Any:
    scale = MILLI / epsilon_milli
    measurement = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)
    # OpenDP's own privacy map confirms the scale spends what is charged (within float rounding).
    spent = measurement.map(1)  # type: ignore[no-untyped-call]
    assert spent <= epsilon_milli / MILLI + 1e-9
    return measurement


def noisy_count(true_count: int, epsilon_milli: int) -> int:
    """`true_count` plus discrete Laplace noise for `epsilon_milli`/1000 epsilon, never below zero.

    Clamping at zero is post-processing, so it spends no further privacy.
    """
    return max(0, int(_mechanism(epsilon_milli)(true_count)))
