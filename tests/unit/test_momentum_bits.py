"""The built-in momentum model's scores and trending have the bits of its formula."""

from __future__ import annotations

import numpy as np

from domain.scoring_models import MOMENTUM_HORIZON, momentum, rank_normalised, rate_of_change


def test_momentum_when_closes_missing_bad_or_extreme_then_bits_of_the_formula() -> None:
    rng = np.random.default_rng(17)
    window = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, size=(MOMENTUM_HORIZON + 1, 40)), 0))
    window[0, :4] = np.nan  # no close 60 days ago
    window[-1, 4:6] = [0.0, -1.0]  # bad closes today
    window[[0, -1], 6] = [1e-300, 1e300]  # a rate of change that overflows to inf
    window[-1, 7] = window[0, 7]  # a rate of exactly 0: not trending
    window[:, 8:12] = 5.0  # ties
    with np.errstate(over="ignore"):
        roc = rate_of_change(window, MOMENTUM_HORIZON)
        score, trending = momentum(window)
    expected_score = np.nan_to_num(rank_normalised(roc), nan=0.0)
    expected_trending = np.where(np.nan_to_num(roc, nan=0.0) > 0, 1.0, 0.0)
    assert score.tobytes() == expected_score.tobytes()
    assert trending.tobytes() == expected_trending.tobytes()
    assert np.isinf(roc[6]) and trending[6] == 1.0 and trending[7] == 0.0
