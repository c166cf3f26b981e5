"""Property tests of domain.scoring over random price matrices.

Matrices include leading NaN blocks (assets listed later), internal gaps, zero-volatility
columns, non-positive closes and columns with no price today.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.scoring import (
    COMPONENTS,
    INDICATOR_COMPONENTS,
    MIN_HISTORY,
    OVERRIDE_SCORE,
    OVERRIDE_TRENDING,
    score_assets,
    window_needed,
)


@st.composite
def price_matrices(draw) -> tuple[np.ndarray, np.ndarray]:
    """A (rows x cols) closes matrix and a fundamentals vector with some NaN."""
    rows = draw(st.integers(0, 230))
    cols = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    vols = rng.choice([0.0, 0.005, 0.02, 0.08], size=cols)
    drifts = rng.normal(0, 0.003, size=cols)
    returns = rng.normal(drifts, vols, size=(rows, cols))
    closes = rng.uniform(0.5, 500.0, size=cols) * np.exp(np.cumsum(returns, axis=0))
    for j in range(cols):
        lead = draw(st.integers(0, rows))
        closes[:lead, j] = np.nan
        if rows and draw(st.booleans()):
            gaps = rng.random(rows) < 0.05
            closes[gaps, j] = rng.choice([np.nan, 0.0, -1.0])
    fundamentals = np.where(rng.random(cols) < 0.5, rng.random(cols), np.nan)
    return closes, fundamentals


def _board(closes: np.ndarray, fundamentals: np.ndarray):
    return score_assets(
        closes, fundamentals=fundamentals, technical_weight=0.6, fundamental_weight=0.4
    )


@settings(max_examples=200, deadline=None)
@given(price_matrices())
def test_score_when_any_price_matrix_then_outputs_bounded_and_nan_free(case):
    closes, fundamentals = case
    board = _board(closes, fundamentals)
    n = closes.shape[1]
    for arr in (board.technical, board.fundamental, board.score, board.trending):
        assert arr.shape == (n,)
        assert np.isfinite(arr).all()
        assert ((arr >= 0.0) & (arr <= 1.0)).all()
    assert list(board.components) == list(COMPONENTS)
    for name in INDICATOR_COMPONENTS:
        values = board.components[name]
        assert np.isfinite(values).all(), name
        assert ((values >= 0.0) & (values <= 1.0)).all(), name
    assert np.isnan(board.components[OVERRIDE_SCORE]).all()
    assert np.isnan(board.components[OVERRIDE_TRENDING]).all()


@settings(max_examples=200, deadline=None)
@given(price_matrices())
def test_valid_when_any_price_matrix_then_history_and_todays_close_decide(case):
    closes, fundamentals = case
    board = _board(closes, fundamentals)
    window = closes[-window_needed() :]
    usable = np.isfinite(window) & (window > 0)
    for j in range(closes.shape[1]):
        present = np.flatnonzero(usable[:, j])
        history = window.shape[0] - present[0] if present.size else 0
        expected = history >= MIN_HISTORY and bool(usable[-1, j]) if window.shape[0] else False
        assert bool(board.valid[j]) == expected
        if not expected:
            assert board.score[j] == 0.0
            assert board.trending[j] == 0.0
            assert board.technical[j] == 0.5


@settings(max_examples=100, deadline=None)
@given(price_matrices())
def test_score_when_column_scored_alone_then_same_as_in_matrix(case):
    closes, fundamentals = case
    board = _board(closes, fundamentals)
    for j in range(closes.shape[1]):
        alone = _board(closes[:, [j]], fundamentals[[j]])
        assert abs(alone.score[0] - board.score[j]) < 1e-9
        assert abs(alone.trending[0] - board.trending[j]) < 1e-9
        for name in INDICATOR_COMPONENTS:
            assert abs(alone.components[name][0] - board.components[name][j]) < 1e-9


@settings(max_examples=100, deadline=None)
@given(price_matrices(), st.floats(0.01, 100.0))
def test_score_when_prices_rescaled_then_board_unchanged(case, factor):
    closes, fundamentals = case
    a = _board(closes, fundamentals)
    b = _board(closes * factor, fundamentals)
    np.testing.assert_allclose(a.score, b.score, atol=1e-7)
    np.testing.assert_allclose(a.trending, b.trending, atol=1e-7)
    np.testing.assert_array_equal(a.valid, b.valid)


@settings(max_examples=100, deadline=None)
@given(price_matrices())
def test_score_when_fundamental_raised_then_score_not_lower(case):
    closes, fundamentals = case
    lower = _board(closes, np.nan_to_num(fundamentals, nan=0.2))
    higher = _board(closes, np.nan_to_num(fundamentals, nan=0.2) + 0.3)
    assert (higher.score >= lower.score - 1e-12).all()
    assert ((higher.score > lower.score) | ~lower.valid).all()
