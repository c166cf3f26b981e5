"""Unit tests of domain.scoring: indicators, blend, validity, overrides, payload."""

from __future__ import annotations

import datetime as dt
import math

import attrs
import numpy as np
import pytest

from domain.scenario import SignalOverride, Signals
from domain.scoring import (
    COMPONENTS,
    INDICATOR_COMPONENTS,
    MIN_HISTORY,
    OVERRIDE_SCORE,
    OVERRIDE_TRENDING,
    SIGMA_FLOOR_ANNUAL,
    TECHNICAL_WEIGHTS,
    TRADING_DAYS_PER_YEAR,
    Z_SCALE,
    ScoreBoard,
    apply_overrides,
    score_as_of,
    score_assets,
    window_needed,
)

FLOOR = SIGMA_FLOOR_ANNUAL / math.sqrt(TRADING_DAYS_PER_YEAR)


def _score(closes: np.ndarray, fundamentals: np.ndarray | None = None, tw: float = 0.6):
    closes = np.asarray(closes, dtype=float)
    if closes.ndim == 1:
        closes = closes[:, None]
    if fundamentals is None:
        fundamentals = np.full(closes.shape[1], np.nan)
    return score_assets(
        closes, fundamentals=fundamentals, technical_weight=tw, fundamental_weight=1 - tw
    )


def _walk(rng: np.random.Generator, n: int, drift: float, vol: float = 0.01) -> np.ndarray:
    return 100.0 * np.exp(np.cumsum(rng.normal(drift, vol, n)))


def _squash(z: float) -> float:
    return 0.5 + 0.5 * math.tanh(z / Z_SCALE)


def _board_equal(a: ScoreBoard, b: ScoreBoard) -> None:
    for name in ("technical", "fundamental", "score", "trending", "valid"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-12)
    for name in COMPONENTS:
        np.testing.assert_allclose(a.components[name], b.components[name], atol=1e-12)


# --- direction -------------------------------------------------------------------


def test_score_when_series_rises_then_higher_than_falling_series():
    rng = np.random.default_rng(1)
    up = _walk(rng, 250, 0.002, vol=0.004)
    down = _walk(rng, 250, -0.002, vol=0.004)
    board = _score(np.column_stack([up, down]))
    assert board.technical[0] > 0.7 > 0.3 > board.technical[1]
    assert board.score[0] > board.score[1]
    assert board.trending[0] > board.trending[1]
    for name in ("mom_20", "mom_60", "mom_126", "trend_sma", "trend_cross"):
        assert board.components[name][0] > 0.5 > board.components[name][1], name


def test_score_when_price_flat_then_direction_neutral_and_technical_near_half():
    board = _score(np.full(250, 40.0))
    for name in ("mom_20", "mom_60", "mom_126", "trend_sma", "trend_cross", "rsi_14"):
        assert board.components[name][0] == pytest.approx(0.5, abs=1e-12), name
    assert board.components["vol_20"][0] == pytest.approx(1.0)
    # Only the zero-volatility bonus lifts a flat asset above neutral.
    assert board.technical[0] == pytest.approx(0.5 + 0.5 * TECHNICAL_WEIGHTS["vol_20"])
    assert board.trending[0] == 0.0


# --- indicators ------------------------------------------------------------------


def test_momentum_when_steady_growth_then_return_over_floor_sigma_mapped_by_tanh():
    g = 0.001
    closes = 50.0 * np.exp(g * np.arange(250))
    board = _score(closes)
    for n in (20, 60, 126):
        expected = _squash(n * g / (FLOOR * math.sqrt(n)))
        assert board.components[f"mom_{n}"][0] == pytest.approx(expected, rel=1e-9), n


def test_momentum_when_history_shorter_than_horizon_then_longest_available_return():
    g = 0.001
    closes = 50.0 * np.exp(g * np.arange(50))  # 49 daily returns
    board = _score(closes)
    expected = _squash(49 * g / (FLOOR * math.sqrt(49)))
    assert board.components["mom_60"][0] == pytest.approx(expected, rel=1e-9)
    assert board.components["mom_126"][0] == pytest.approx(expected, rel=1e-9)


def test_momentum_when_recent_volatility_higher_then_same_return_scores_lower():
    rng = np.random.default_rng(3)
    base = np.log(100.0) + 0.002 * np.arange(100)
    calm = base + rng.normal(0, 0.0005, 100)
    wild = base + rng.normal(0, 0.02, 100)
    calm[-1] = wild[-1] = base[-1]
    calm[-21] = wild[-21] = base[-21]  # identical 20-day return
    board = _score(np.exp(np.column_stack([calm, wild])))
    assert board.components["mom_20"][0] > board.components["mom_20"][1] > 0.5


def _sma(x: np.ndarray, w: int) -> float:
    return float(np.mean(x[-w:]))


def _sigma(x: np.ndarray) -> float:
    r = np.diff(np.log(x))[-60:]
    return max(float(np.std(r, ddof=1)), FLOOR)


def test_trend_when_history_long_then_close_vs_sma50_and_sma50_vs_sma200():
    rng = np.random.default_rng(5)
    x = _walk(rng, 260, 0.001, 0.012)
    board = _score(x)
    w = x[-200:]  # only window_needed() rows are read
    sigma = _sigma(w)
    sma_z = math.log(w[-1] / _sma(w, 50)) / (sigma * math.sqrt(50 / 3))
    cross_z = math.log(_sma(w, 50) / _sma(w, 200)) / (sigma * 150 / math.sqrt(600))
    assert board.components["trend_sma"][0] == pytest.approx(_squash(sma_z), rel=1e-9)
    assert board.components["trend_cross"][0] == pytest.approx(_squash(cross_z), rel=1e-9)


def test_trend_cross_when_history_short_then_quarter_window_vs_full_history():
    rng = np.random.default_rng(6)
    x = _walk(rng, 100, 0.001, 0.012)
    board = _score(x)
    sigma = _sigma(x)
    cross_z = math.log(_sma(x, 25) / _sma(x, 100)) / (sigma * 75 / math.sqrt(300))
    assert board.components["trend_cross"][0] == pytest.approx(_squash(cross_z), rel=1e-9)


def _from_returns(returns: list[float], lead: int = 30) -> np.ndarray:
    r = np.concatenate([np.zeros(lead), np.asarray(returns)])
    return 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))


def test_rsi_when_gains_and_losses_mixed_then_cutler_rsi_over_14_changes():
    # 14 changes: gains sum 0.06, losses sum 0.04 -> RSI 60 -> 0.6 (below overbought).
    returns = [0.01] * 6 + [-0.01] * 4 + [0.0] * 4
    board = _score(_from_returns(returns))
    assert board.components["rsi_14"][0] == pytest.approx(0.6, abs=1e-9)


def test_rsi_when_overbought_then_slope_above_70_halved():
    all_up = _score(_from_returns([0.01] * 14))
    assert all_up.components["rsi_14"][0] == pytest.approx(0.85, abs=1e-9)
    # RSI 80 -> 0.70 + 0.5 * 0.10 = 0.75
    eighty = _score(_from_returns([0.01] * 8 + [-0.01] * 2 + [0.0] * 4))
    assert eighty.components["rsi_14"][0] == pytest.approx(0.75, abs=1e-9)
    all_down = _score(_from_returns([-0.01] * 14))
    assert all_down.components["rsi_14"][0] == pytest.approx(0.0, abs=1e-9)


def test_vol_when_annualised_vol_known_then_lower_vol_scores_higher():
    a = 0.02
    alternating = [a if i % 2 else -a for i in range(20)]
    board = _score(_from_returns(alternating))
    vol = float(np.std(alternating, ddof=1)) * math.sqrt(252)
    assert board.components["vol_20"][0] == pytest.approx(1 - vol / 0.8, rel=1e-9)
    wild = _score(_from_returns([0.08 if i % 2 else -0.08 for i in range(20)]))
    assert wild.components["vol_20"][0] == 0.0  # vol >= 0.8 clips to 0


def test_technical_when_components_known_then_documented_weighted_mean():
    rng = np.random.default_rng(9)
    board = _score(np.column_stack([_walk(rng, 230, d, 0.015) for d in (-0.002, 0, 0.002)]))
    assert sum(TECHNICAL_WEIGHTS.values()) == pytest.approx(1.0)
    expected = sum(w * board.components[name] for name, w in TECHNICAL_WEIGHTS.items())
    np.testing.assert_allclose(board.technical, expected, atol=1e-12)


def test_trending_when_components_known_then_direction_blended_with_strength():
    rng = np.random.default_rng(11)
    closes = np.column_stack([_walk(rng, 230, d, 0.015) for d in (-0.002, 0, 0.001, 0.003)])
    board = _score(closes)
    w = closes[-200:]
    direction = np.mean([w[-1] > w[-1 - n] for n in (20, 60, 126)], axis=0)
    strength = np.mean(
        [
            np.maximum(0, 2 * board.components[c] - 1)
            for c in ("mom_20", "mom_60", "mom_126", "trend_sma", "trend_cross")
        ],
        axis=0,
    )
    np.testing.assert_allclose(board.trending, 0.5 * direction + 0.5 * strength, atol=1e-12)


def test_trending_when_only_long_horizon_up_then_direction_one_third():
    # 126 days up strongly, then 60 days down: only mom_126 positive.
    r = [0.01] * 140 + [-0.004] * 60
    board = _score(_from_returns(r, lead=0))
    comps = board.components
    assert comps["mom_126"][0] > 0.5 > comps["mom_60"][0]
    assert comps["mom_20"][0] < 0.5
    strength = np.mean(
        [max(0.0, 2 * comps[c][0] - 1) for c in ("mom_126", "trend_sma", "trend_cross")]
        + [0.0, 0.0]
    )
    assert board.trending[0] == pytest.approx(0.5 / 3 + 0.5 * strength, abs=1e-12)


# --- blend -----------------------------------------------------------------------


def test_blend_when_fundamental_given_then_weighted_sum_of_technical_and_fundamental():
    # Flat price: technical is exactly 0.5 + 0.5 * 0.10 = 0.55 by hand.
    board = _score(np.full((250, 1), 10.0), fundamentals=np.array([0.8]), tw=0.6)
    assert board.technical[0] == pytest.approx(0.55, abs=1e-12)
    assert board.fundamental[0] == 0.8
    assert board.score[0] == pytest.approx(0.6 * 0.55 + 0.4 * 0.8, abs=1e-12)
    assert bool(board.fundamental_given[0])


def test_blend_when_fundamental_nan_then_score_is_technical_only():
    rng = np.random.default_rng(2)
    closes = np.column_stack([_walk(rng, 230, 0.001), _walk(rng, 230, 0.001)])
    board = _score(closes, fundamentals=np.array([np.nan, 0.9]))
    assert board.score[0] == pytest.approx(board.technical[0], abs=1e-12)
    assert board.fundamental[0] == 0.5
    assert not bool(board.fundamental_given[0])
    assert board.score[1] == pytest.approx(0.6 * board.technical[1] + 0.4 * 0.9, abs=1e-12)


def test_blend_when_fundamental_outside_unit_interval_then_clipped():
    board = _score(np.full((30, 2), 10.0), fundamentals=np.array([1.7, -0.3]))
    np.testing.assert_array_equal(board.fundamental, [1.0, 0.0])


@pytest.mark.parametrize(("tw", "fw"), [(0.6, 0.5), (1.2, -0.2), (0.5, 0.4)])
def test_score_when_weights_invalid_then_value_error(tw, fw):
    with pytest.raises(ValueError, match="weight"):
        score_assets(
            np.ones((30, 1)),
            fundamentals=np.array([np.nan]),
            technical_weight=tw,
            fundamental_weight=fw,
        )


# --- validity and missing data ---------------------------------------------------


def test_valid_when_history_shorter_than_min_then_invalid_with_zero_score_and_trending():
    assert MIN_HISTORY == 21
    closes = np.full((40, 2), np.nan)
    closes[-20:, 0] = np.linspace(10, 20, 20)
    closes[-21:, 1] = np.linspace(10, 20, 21)
    board = _score(closes, fundamentals=np.array([0.9, 0.9]))
    assert board.valid.tolist() == [False, True]
    assert board.score[0] == 0.0
    assert board.trending[0] == 0.0
    assert board.technical[0] == 0.5
    assert all(board.components[c][0] == 0.5 for c in INDICATOR_COMPONENTS)
    assert board.score[1] > 0.5


def test_valid_when_no_close_today_then_invalid():
    closes = np.full((60, 1), 10.0)
    closes[-1, 0] = np.nan
    board = _score(closes)
    assert not bool(board.valid[0])
    assert board.score[0] == 0.0


def test_score_when_close_not_positive_then_treated_as_missing():
    rng = np.random.default_rng(4)
    x = _walk(rng, 120, 0.001)
    holed = x.copy()
    holed[50] = 0.0
    holed[51] = -3.0
    filled = x.copy()
    filled[50:52] = x[49]
    _board_equal(_score(holed), _score(filled))


def test_score_when_gap_inside_history_then_last_close_carried_forward():
    rng = np.random.default_rng(7)
    x = _walk(rng, 150, 0.001)
    gapped = x.copy()
    gapped[100:104] = np.nan
    filled = x.copy()
    filled[100:104] = x[99]
    _board_equal(_score(gapped), _score(filled))


def test_score_when_other_columns_have_nan_blocks_then_column_unaffected():
    rng = np.random.default_rng(8)
    x = _walk(rng, 220, 0.001)
    young = np.full(220, np.nan)
    young[-30:] = _walk(rng, 30, 0.0)
    empty = np.full(220, np.nan)
    together = _score(np.column_stack([young, x, empty]), fundamentals=np.array([0.3, 0.6, 0.9]))
    alone = _score(x, fundamentals=np.array([0.6]))
    # Equal up to float summation order (numpy reduces columns in blocks).
    assert together.score[1] == pytest.approx(alone.score[0], abs=1e-12)
    assert together.trending[1] == pytest.approx(alone.trending[0], abs=1e-12)
    for name in INDICATOR_COMPONENTS:
        assert together.components[name][1] == pytest.approx(alone.components[name][0], abs=1e-12)
    assert together.valid.tolist() == [True, True, False]


def test_score_when_no_rows_then_every_asset_invalid():
    board = _score(np.empty((0, 3)))
    assert board.valid.tolist() == [False, False, False]
    np.testing.assert_array_equal(board.score, 0.0)


def test_score_when_closes_not_two_dimensional_then_value_error():
    with pytest.raises(ValueError, match="2-D"):
        score_assets(
            np.ones(30),
            fundamentals=np.array([np.nan]),
            technical_weight=0.6,
            fundamental_weight=0.4,
        )


def test_score_when_fundamentals_shape_mismatch_then_value_error():
    with pytest.raises(ValueError, match="fundamentals"):
        score_assets(
            np.ones((30, 2)),
            fundamentals=np.array([np.nan]),
            technical_weight=0.6,
            fundamental_weight=0.4,
        )


# --- lookback and no look-ahead --------------------------------------------------


def test_window_needed_when_asked_then_covers_every_lookback():
    assert window_needed() == 200
    assert window_needed() >= 126 + 1


def test_score_when_window_longer_than_needed_then_older_rows_ignored():
    rng = np.random.default_rng(10)
    x = np.column_stack([_walk(rng, 400, 0.001), _walk(rng, 400, -0.001)])
    long_board = _score(x)
    x_changed = x.copy()
    x_changed[: 400 - window_needed()] *= 3.0  # rewrite old history
    _board_equal(long_board, _score(x_changed))
    _board_equal(long_board, _score(x[-window_needed() :]))


def test_score_as_of_when_rows_after_t_change_then_board_unchanged():
    rng = np.random.default_rng(12)
    x = np.column_stack([_walk(rng, 300, 0.001), _walk(rng, 300, -0.001)])
    kwargs = {"fundamentals": np.array([0.4, np.nan]), "technical_weight": 0.6,
              "fundamental_weight": 0.4}  # fmt: skip
    before = score_as_of(x, 240, **kwargs)
    future_changed = x.copy()
    future_changed[241:] = future_changed[241:] * 10.0
    future_changed[241:, 1] = np.nan
    _board_equal(before, score_as_of(future_changed, 240, **kwargs))
    _board_equal(before, _score(x[:241], fundamentals=kwargs["fundamentals"]))


def test_score_as_of_when_t_early_then_slice_starts_at_zero():
    rng = np.random.default_rng(13)
    x = _walk(rng, 100, 0.001)[:, None]
    kwargs = {"fundamentals": np.array([np.nan]), "technical_weight": 0.6,
              "fundamental_weight": 0.4}  # fmt: skip
    _board_equal(score_as_of(x, 30, **kwargs), _score(x[:31]))


@pytest.mark.parametrize("t", [-1, 100])
def test_score_as_of_when_t_outside_rows_then_index_error(t):
    with pytest.raises(IndexError):
        score_as_of(
            np.ones((100, 1)),
            t,
            fundamentals=np.array([np.nan]),
            technical_weight=0.6,
            fundamental_weight=0.4,
        )


# --- overrides -------------------------------------------------------------------

TICKERS = ("AAPL", "MSFT", "NEWCO")


def _three_board() -> ScoreBoard:
    rng = np.random.default_rng(14)
    closes = np.column_stack(
        [_walk(rng, 220, 0.001), _walk(rng, 220, -0.001), np.full(220, np.nan)]
    )
    closes[-5:, 2] = 10.0  # too young to be valid
    return _score(closes)


def test_override_when_day_inside_window_then_score_replaced_and_recorded():
    board = _three_board()
    signals = Signals(
        scores=(SignalOverride("AAPL", dt.date(2021, 1, 4), 0.97, dt.date(2021, 2, 1)),),
        trending=(SignalOverride("MSFT", dt.date(2021, 1, 4), 0.9),),
    )
    out = apply_overrides(board, dt.date(2021, 2, 1), TICKERS, signals)
    assert out.score[0] == 0.97
    assert out.score[1] == board.score[1]
    assert out.trending[1] == 0.9
    assert out.trending[0] == board.trending[0]
    assert out.technical[0] == board.technical[0]
    np.testing.assert_array_equal(out.components[OVERRIDE_SCORE], [0.97, np.nan, np.nan])
    np.testing.assert_array_equal(out.components[OVERRIDE_TRENDING], [np.nan, 0.9, np.nan])
    # The input board is unchanged.
    assert board.score[0] != 0.97
    assert np.isnan(board.components[OVERRIDE_SCORE]).all()


@pytest.mark.parametrize("day", [dt.date(2021, 1, 4), dt.date(2021, 1, 20), dt.date(2021, 2, 1)])
def test_override_when_day_on_window_bounds_or_inside_then_applied(day):
    signals = Signals(
        scores=(SignalOverride("AAPL", dt.date(2021, 1, 4), 0.97, dt.date(2021, 2, 1)),)
    )
    assert apply_overrides(_three_board(), day, TICKERS, signals).score[0] == 0.97


@pytest.mark.parametrize("day", [dt.date(2021, 1, 3), dt.date(2021, 2, 2)])
def test_override_when_day_outside_window_then_no_change(day):
    board = _three_board()
    signals = Signals(
        scores=(SignalOverride("AAPL", dt.date(2021, 1, 4), 0.97, dt.date(2021, 2, 1)),)
    )
    out = apply_overrides(board, day, TICKERS, signals)
    np.testing.assert_array_equal(out.score, board.score)
    assert np.isnan(out.components[OVERRIDE_SCORE]).all()


def test_override_when_none_active_and_board_writable_then_copies_and_input_stays_writable():
    board = _three_board()
    writable = attrs.evolve(board, score=np.array(board.score), trending=np.array(board.trending))
    out = apply_overrides(writable, dt.date(2021, 1, 3), TICKERS, Signals())
    assert out.score is not writable.score and out.trending is not writable.trending
    assert out.score.tobytes() == writable.score.tobytes()
    assert out.trending.tobytes() == writable.trending.tobytes()
    assert not out.score.flags.writeable and not out.trending.flags.writeable
    assert writable.score.flags.writeable and writable.trending.flags.writeable


def test_override_when_none_active_and_board_read_only_then_its_arrays_are_kept():
    board = _three_board()
    out = apply_overrides(board, dt.date(2021, 1, 3), TICKERS, Signals())
    assert out.score is board.score and out.trending is board.trending
    assert not out.components[OVERRIDE_SCORE].flags.writeable


def test_override_when_to_open_then_active_to_end_and_not_before_from():
    board = _three_board()
    signals = Signals(trending=(SignalOverride("AAPL", dt.date(2021, 1, 4), 0.2),))
    late = apply_overrides(board, dt.date(2030, 1, 1), TICKERS, signals)
    early = apply_overrides(board, dt.date(2021, 1, 1), TICKERS, signals)
    assert late.trending[0] == 0.2
    assert early.trending[0] == board.trending[0]


def test_override_when_two_active_for_one_asset_then_later_entry_wins():
    board = _three_board()
    signals = Signals(
        scores=(
            SignalOverride("MSFT", dt.date(2021, 1, 1), 0.3),
            SignalOverride("MSFT", dt.date(2021, 1, 10), 0.8, dt.date(2021, 1, 20)),
        )
    )
    assert apply_overrides(board, dt.date(2021, 1, 15), TICKERS, signals).score[1] == 0.8
    assert apply_overrides(board, dt.date(2021, 1, 25), TICKERS, signals).score[1] == 0.3


def test_override_when_asset_invalid_then_override_still_applies():
    board = _three_board()
    assert not bool(board.valid[2])
    signals = Signals(scores=(SignalOverride("NEWCO", dt.date(2021, 1, 1), 0.9),))
    out = apply_overrides(board, dt.date(2021, 1, 5), TICKERS, signals)
    assert out.score[2] == 0.9
    assert not bool(out.valid[2])


def test_override_when_ticker_unknown_then_value_error():
    signals = Signals(scores=(SignalOverride("ZZZ", dt.date(2021, 1, 1), 0.9),))
    with pytest.raises(ValueError, match="ZZZ"):
        apply_overrides(_three_board(), dt.date(2021, 1, 5), TICKERS, signals)


def test_override_when_value_outside_unit_interval_then_value_error():
    signals = Signals(trending=(SignalOverride("AAPL", dt.date(2021, 1, 1), 1.5),))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        apply_overrides(_three_board(), dt.date(2021, 1, 5), TICKERS, signals)


def test_override_when_tickers_do_not_match_board_then_value_error():
    with pytest.raises(ValueError, match="tickers"):
        apply_overrides(_three_board(), dt.date(2021, 1, 5), TICKERS[:2], Signals())


# --- shapes, immutability, payload -----------------------------------------------


def test_score_when_2000_assets_by_260_rows_then_shapes_match_columns():
    rng = np.random.default_rng(15)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, (260, 2000)), axis=0))
    closes[:100, :300] = np.nan  # some assets listed later
    fundamentals = np.where(rng.random(2000) < 0.5, rng.random(2000), np.nan)
    board = _score(closes, fundamentals=fundamentals)
    for arr in (board.technical, board.fundamental, board.score, board.trending, board.valid):
        assert arr.shape == (2000,)
    assert set(board.components) == set(COMPONENTS)
    assert all(v.shape == (2000,) for v in board.components.values())
    assert board.valid.all()
    assert not np.isnan(board.score).any()


def test_board_when_array_written_then_read_only_error():
    board = _three_board()
    with pytest.raises(ValueError):
        board.score[0] = 1.0
    with pytest.raises(TypeError):
        board.components["mom_20"] = np.zeros(3)  # type: ignore[index]


def test_for_asset_when_called_then_every_component_rounded_to_six_places():
    board = _three_board()
    signals = Signals(scores=(SignalOverride("AAPL", dt.date(2021, 1, 1), 0.123456789),))
    board = apply_overrides(board, dt.date(2021, 1, 5), TICKERS, signals)
    payload = board.for_asset(0)
    expected_keys = {"score", "technical", "fundamental", "trending", "valid", "fundamental_given"}
    assert set(payload) == expected_keys | set(COMPONENTS)
    assert payload["score"] == 0.123457
    assert payload[OVERRIDE_SCORE] == 0.123457
    assert payload[OVERRIDE_TRENDING] is None
    assert payload["technical"] == round(float(board.technical[0]), 6)
    for name in INDICATOR_COMPONENTS:
        assert payload[name] == round(float(board.components[name][0]), 6)
        assert payload[name] == round(payload[name], 6)
    assert payload["valid"] is True
    assert payload["fundamental_given"] is False
