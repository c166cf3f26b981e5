"""`domain.construction.inputs.log_returns`: gaps forward-filled, leading NaN kept, and a
wholly priced window (its fast path) the plain log differences; the run's `MarketReturns`
give a day's market volatility with the same bits."""

from __future__ import annotations

import numpy as np

from domain import numerics
from domain.construction.inputs import MarketReturns, log_returns, market_volatility


def test_log_returns_when_every_close_priced_then_plain_log_differences():
    closes = np.array([[100.0, 50.0], [110.0, 50.0], [99.0, 55.0]])
    expected = np.diff(numerics.log(closes), axis=0)
    assert log_returns(closes).tobytes() == expected.tobytes()


def test_log_returns_when_gap_and_late_listing_then_filled_and_leading_nan_kept():
    closes = np.array([[100.0, np.nan], [np.nan, 20.0], [121.0, 0.0], [121.0, 22.0]])
    out = log_returns(closes)
    assert out[0, 0] == 0.0  # the gap carries 100 forward
    assert np.isclose(out[1, 0], np.log(1.21))
    assert np.isnan(out[0, 1])  # no earlier close
    assert out[1, 1] == 0.0  # the bad close carries 20 forward
    assert np.isclose(out[2, 1], np.log(1.1))


def _paths(rows: int, cols: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (rows, cols)), axis=0))
    closes.flags.writeable = False
    return closes


def test_market_returns_when_window_priced_then_volatility_bits_of_the_window():
    closes = _paths(600, 130)  # past a block of rows, and columns past numpy's pairwise block
    returns = MarketReturns(closes)
    for t in (20, 255, 256, 257, 599):
        expected = market_volatility(closes[max(0, t - 60) : t + 1])
        assert np.float64(returns.volatility(t)).tobytes() == np.float64(expected).tobytes()


def test_market_returns_when_gap_or_short_history_then_none():
    closes = np.array(_paths(100, 4))
    closes[50, 1] = np.nan
    closes.flags.writeable = False
    returns = MarketReturns(closes)
    assert returns.volatility(19) is None  # 20 rows: fewer than 21
    assert returns.volatility(50) is None and returns.volatility(70) is None
    assert returns.volatility(71) is not None  # rows 51 .. 71 are priced
