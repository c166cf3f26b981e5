"""Performance statistics of equity paths, by hand-computed values (docs/metrics.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.read.metrics import performance as perf

# The initial cash, then each day's equity: up 10%, down 10%, up 10%, then a new high.
PATH = np.array([100.0, 110.0, 99.0, 108.9, 120.0])
RETURNS = np.array([0.1, -0.1, 0.1, 120.0 / 108.9 - 1.0])


def test_daily_returns_when_path_then_first_is_against_initial_cash():
    assert perf.daily_returns(PATH) == pytest.approx(RETURNS)


def test_total_return_and_cagr_when_path_then_growth_over_trading_days():
    assert perf.total_return(PATH) == pytest.approx(0.2)
    assert perf.cagr(PATH) == pytest.approx(1.2 ** (252 / 4) - 1.0)
    half_year = np.array([100.0, *([100.0] * 125), 121.0])  # 126 returns: half a year
    assert perf.cagr(half_year) == pytest.approx(0.4641)


def test_volatility_and_sharpe_when_path_then_sample_sd_times_sqrt_252():
    sd = np.std(RETURNS, ddof=1)
    assert perf.volatility(PATH) == pytest.approx(sd * math.sqrt(252))
    assert perf.sharpe(PATH) == pytest.approx(RETURNS.mean() / sd * math.sqrt(252))


def test_sortino_when_path_then_downside_deviation_over_every_day():
    downside = math.sqrt(0.01 / 4)  # one day at -10%, four days in all
    assert perf.downside_deviation(RETURNS) == pytest.approx(downside)
    assert perf.sortino(PATH) == pytest.approx(RETURNS.mean() / downside * math.sqrt(252))


def test_drawdown_when_path_recovers_then_depth_duration_and_time_under_water():
    assert perf.max_drawdown(PATH) == pytest.approx(0.1)
    assert perf.max_drawdown_days(PATH) == 3  # peak on day 1, back above it on day 4
    assert perf.time_under_water(PATH) == pytest.approx(0.5)  # days 2 and 3 of 4
    assert perf.calmar(PATH) == pytest.approx(perf.cagr(PATH) / 0.1)


def test_drawdown_when_path_never_recovers_then_duration_runs_to_the_end():
    path = np.array([100.0, 90.0, 95.0, 80.0, 85.0])
    assert perf.max_drawdown(path) == pytest.approx(0.2)
    assert perf.max_drawdown_days(path) == 4  # from the initial cash to the last day
    assert perf.time_under_water(path) == 1.0


def test_drawdown_when_deepest_follows_a_later_peak_then_measured_from_that_peak():
    path = np.array([100.0, 95.0, 100.0, 120.0, 90.0, 121.0])
    assert perf.max_drawdown(path) == pytest.approx(0.25)
    assert perf.max_drawdown_days(path) == 2  # 120 on day 3 to 121 on day 5


def test_ratios_when_flat_path_then_undefined_and_risk_zero():
    flat = np.full(10, 100.0)
    assert (perf.sharpe(flat), perf.sortino(flat), perf.calmar(flat)) == (None, None, None)
    assert perf.volatility(flat) == 0 and perf.max_drawdown(flat) == 0
    assert perf.max_drawdown_days(flat) == 0 and perf.time_under_water(flat) == 0
    assert perf.cagr(flat) == 0


def test_ratios_when_no_down_day_then_sortino_and_calmar_undefined():
    rise = np.array([100.0, 101.0, 103.0, 103.5])
    assert perf.sortino(rise) is None and perf.calmar(rise) is None
    assert perf.sharpe(rise) is not None and perf.sharpe(rise) > 0


def test_metrics_when_no_simulated_day_then_all_undefined():
    only_cash = np.array([100.0])
    stats = (
        perf.total_return,
        perf.cagr,
        perf.volatility,
        perf.sharpe,
        perf.sortino,
        perf.calmar,
        perf.max_drawdown,
        perf.max_drawdown_days,
        perf.time_under_water,
    )
    assert [stat(only_cash) for stat in stats] == [None] * len(stats)


def test_volatility_when_one_return_then_undefined():
    assert perf.volatility(np.array([100.0, 101.0])) is None
    assert perf.sharpe(np.array([100.0, 101.0])) is None


def test_cagr_when_everything_lost_then_minus_one():
    assert perf.cagr(np.array([100.0, 50.0, 0.0])) == -1.0
