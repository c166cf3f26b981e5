"""`domain.construction.inputs.log_returns`: gaps forward-filled, leading NaN kept, and a
wholly priced window (its fast path) the plain log differences; the run's `MarketReturns`
give a day's market volatility with the same bits, and a day's lookback returns sliced
from the run's log closes have the bits of its window's."""

from __future__ import annotations

import numpy as np
import pytest

from domain import numerics
from domain.config import Config
from domain.construction.inputs import (
    DayMemo,
    MarketReturns,
    PlanInputs,
    log_returns,
    market_volatility,
)


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


def test_market_logs_when_rows_read_across_blocks_then_bits_of_the_log_of_those_rows():
    closes = np.array(_paths(600, 7))
    closes[300, 2], closes[301, 3], closes[5, 0] = np.nan, 0.0, -1.0
    closes.flags.writeable = False
    returns = MarketReturns(closes)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = numerics.log(closes)
    for lo, hi in ((250, 260), (0, 0), (0, 599), (512, 599), (255, 256)):
        got = returns.logs(lo, hi)
        assert not got.flags.writeable
        assert np.array_equal(got, expected[lo : hi + 1], equal_nan=True)
        assert got.tobytes() == expected[lo : hi + 1].tobytes()
    with pytest.raises(IndexError):
        returns.logs(590, 600)


def _plan_day(closes: np.ndarray, t: int, rows: int) -> PlanInputs:
    """A plan on row `t` whose `DayMemo` holds the run's `MarketReturns`, as the desk's."""
    window = closes[max(0, t - rows + 1) : t + 1]
    day = DayMemo(window, market=MarketReturns(closes), row=t)
    n = closes.shape[1]
    tickers = [f"T{j}" for j in range(n)]
    return PlanInputs(
        tickers=tickers,
        score=np.full(n, 0.5),
        trending=np.full(n, 0.5),
        valid=np.ones(n, dtype=bool),
        weights={},
        config=Config(),
        closes=window,
        day=day,
    )


@pytest.mark.parametrize("t", [0, 1, 30, 61, 300, 599])
def test_plan_returns_when_day_holds_run_logs_then_bits_of_window_log_returns(t):
    closes = np.array(_paths(600, 9))
    closes[290:310, 4] = np.nan  # a gap
    closes[:40, 6] = np.nan  # a late listing
    closes[100, 1] = 0.0  # a bad close
    closes.flags.writeable = False
    inp = _plan_day(closes, t, 61)
    for lookback in (20, 60, 200):
        expected = log_returns(inp.closes[-(lookback + 1) :])
        got = inp.returns(lookback)
        assert got.shape == expected.shape and got.tobytes() == expected.tobytes()
        columns = [6, 4, 1]
        fresh = _plan_day(closes, t, 61)
        part = fresh.returns_of(lookback, columns)
        assert part.tobytes() == np.ascontiguousarray(expected[:, columns]).tobytes()
