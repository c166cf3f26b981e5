"""Scoring models: the built-in momentum, and how any model's result becomes a board."""

from __future__ import annotations

import numpy as np
import pytest

from domain.scoring import OVERRIDE_SCORE
from domain.scoring_models import (
    MODEL_SCORE,
    MOMENTUM,
    MOMENTUM_HORIZON,
    ScoringModel,
    builtin_model,
    momentum,
    rank_normalised,
    rate_of_change,
)


def paths(*returns: float, rows: int = 61) -> np.ndarray:
    """One column per total return over the last `rows - 1` days, from 100."""
    steps = np.linspace(0.0, 1.0, rows)[:, None]
    return 100.0 * (1.0 + np.array(returns)[None, :] * steps)


def test_rate_of_change_when_61_rows_then_last_over_60_days_before_minus_one() -> None:
    closes = paths(0.2, -0.1, 0.0)
    np.testing.assert_allclose(rate_of_change(closes, 60), [0.2, -0.1, 0.0])


def test_rate_of_change_when_history_short_or_price_missing_then_nan() -> None:
    closes = paths(0.2, 0.1, 0.3)
    closes[0, 1] = np.nan  # no close 60 days ago
    closes[-1, 2] = 0.0  # no close today
    roc = rate_of_change(closes, 60)
    assert np.isfinite(roc[0]) and np.isnan(roc[1]) and np.isnan(roc[2])
    assert np.isnan(rate_of_change(closes[1:], 60)).all()


def test_rank_normalised_when_values_given_then_rank_over_count_minus_one() -> None:
    out = rank_normalised(np.array([0.3, np.nan, -0.2, 0.1, 0.1]))
    # ranks among the finite: -0.2 -> 0, 0.1 (col 3) -> 1, 0.1 (col 4) -> 2, 0.3 -> 3
    np.testing.assert_allclose(out, [1.0, np.nan, 0.0, 1 / 3, 2 / 3])


def test_rank_normalised_when_one_finite_value_then_it_scores_one() -> None:
    np.testing.assert_allclose(rank_normalised(np.array([np.nan, 5.0])), [np.nan, 1.0])


def test_rank_normalised_when_missing_given_then_unranked_values_take_it() -> None:
    values = np.array([0.3, np.nan, -0.2, np.inf])
    out = rank_normalised(values, missing=0.0)
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0, 0.0])
    assert out[2:].tobytes() == np.zeros(2).tobytes()  # +0.0, as np.where(isnan, 0.0) gives


def test_momentum_when_scored_then_rank_of_roc_and_trending_is_positive_roc() -> None:
    score, trending = momentum(paths(0.2, -0.1, 0.05, 0.4))
    np.testing.assert_allclose(score, [2 / 3, 0.0, 1 / 3, 1.0])
    np.testing.assert_array_equal(trending, [1.0, 0.0, 1.0, 1.0])


def test_momentum_when_no_rate_of_change_then_score_and_trending_zero() -> None:
    closes = paths(0.2, 0.4)
    closes[0, 1] = np.nan
    score, trending = momentum(closes)
    np.testing.assert_array_equal(score, [1.0, 0.0])
    np.testing.assert_array_equal(trending, [1.0, 0.0])


def test_score_as_of_when_rows_after_t_change_then_the_board_does_not() -> None:
    model = builtin_model(MOMENTUM)
    closes = paths(0.2, -0.1, 0.05, rows=100)
    changed = closes.copy()
    changed[81:] *= np.array([0.5, 3.0, 1.0])
    a, b = model.score_as_of(closes, 80), model.score_as_of(changed, 80)
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.score, momentum(closes[80 - MOMENTUM_HORIZON : 81])[0])


def test_score_as_of_when_user_model_has_no_window_then_it_gets_rows_up_to_t() -> None:
    seen: list[tuple[int, bool]] = []

    def model(window: np.ndarray) -> np.ndarray:
        seen.append((window.shape[0], window.flags.writeable))
        return np.full(window.shape[1], 0.5)

    ScoringModel("m:f", model).score_as_of(paths(0.1, 0.2, rows=30), 12)
    assert seen == [(13, False)]


def test_board_when_model_returns_scores_only_then_trending_equals_score() -> None:
    board = ScoringModel("m:f", lambda w: np.array([0.2, 0.9])).score_as_of(paths(0.1, 0.2), 60)
    np.testing.assert_allclose(board.score, [0.2, 0.9])
    np.testing.assert_allclose(board.trending, [0.2, 0.9])
    np.testing.assert_allclose(board.components[MODEL_SCORE], [0.2, 0.9])
    assert np.isnan(board.components[OVERRIDE_SCORE]).all()
    assert board.valid.all() and not board.fundamental_given.any()


def test_board_when_asset_has_no_close_today_then_not_valid_and_scored_zero() -> None:
    closes = paths(0.1, 0.2)
    closes[-1, 0] = np.nan
    board = ScoringModel("m:f", lambda w: (np.ones(2), np.ones(2))).score_as_of(closes, 60)
    assert board.valid.tolist() == [False, True]
    assert board.score.tolist() == [0.0, 1.0] and board.trending.tolist() == [0.0, 1.0]


def test_board_when_model_result_changed_after_then_board_keeps_its_read_only_values() -> None:
    result = np.array([0.2, 0.9])
    board = ScoringModel("m:f", lambda w: result).score_as_of(paths(0.1, 0.2), 60)
    result[:] = 0.5
    for array in (board.score, board.technical, board.trending, board.components[MODEL_SCORE]):
        assert array.tolist() == [0.2, 0.9] and not array.flags.writeable


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (np.ones(3), r"scores of shape \(3,\), expected \(2,\)"),
        (np.array([0.5, 1.5]), "scores outside"),
        (np.array([0.5, np.nan]), "scores outside"),
        (np.array([np.inf, 0.5]), "scores outside"),
        ((np.ones(2), np.array([0.0, -np.inf])), "trending outside"),
        ((np.ones(2), np.array([-0.1, 0.0])), "trending outside"),
    ],
)
def test_board_when_model_returns_bad_values_then_value_error_names_it(result, message) -> None:
    model = ScoringModel("pkg.mod:bad", lambda w: result)
    with pytest.raises(ValueError, match=f"scoring model 'pkg.mod:bad' returned {message}"):
        model.score_as_of(paths(0.1, 0.2), 60)


def test_score_as_of_when_t_outside_rows_then_index_error() -> None:
    with pytest.raises(IndexError):
        builtin_model(MOMENTUM).score_as_of(paths(0.1), 61)


def test_for_asset_when_model_board_shares_its_score_then_each_field_rounded_as_its_own() -> None:
    scores = np.array([0.123456789, 0.9876543210])
    board = ScoringModel("m:f", lambda w: (scores, np.array([0.25, 0.0]))).score_as_of(
        paths(0.1, 0.2), 60
    )
    payload = board.for_asset(0)
    assert list(payload) == [
        "score",
        "technical",
        "fundamental",
        "trending",
        "valid",
        "fundamental_given",
        MODEL_SCORE,
        OVERRIDE_SCORE,
        "override_trending",
    ]
    assert payload["score"] == payload["technical"] == payload[MODEL_SCORE] == 0.123457
    assert payload["trending"] == 0.25 and payload["fundamental"] == 0.5
    assert payload[OVERRIDE_SCORE] is None and payload["override_trending"] is None
    assert payload["valid"] is True and payload["fundamental_given"] is False


def test_board_when_model_scores_two_days_then_constant_fields_shared_read_only() -> None:
    model = builtin_model(MOMENTUM)
    closes = paths(0.1, -0.2, 0.3, rows=70)
    first, second = model.score_as_of(closes, 68), model.score_as_of(closes, 69)
    assert second.fundamental is first.fundamental
    assert second.components[OVERRIDE_SCORE] is first.components[OVERRIDE_SCORE]
    assert not first.fundamental.flags.writeable and not first.fundamental_given.flags.writeable
    assert (first.fundamental == 0.5).all() and not first.fundamental_given.any()
    assert np.isnan(first.components[OVERRIDE_SCORE]).all()
