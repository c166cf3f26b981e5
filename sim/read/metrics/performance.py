"""Performance statistics of one equity path (pure: numpy only, no database).

Every function reads `levels`: the initial cash, then the equity at the close of each
simulated day. The daily simple returns are `levels[1:] / levels[:-1] - 1`, so the first
return is the first day's equity against the initial cash (it includes the first day's
trading costs). Conventions (docs/metrics.md): 252 trading days a year, a zero risk-free
rate, the sample standard deviation (ddof 1), years counted in trading days (one per
return). A statistic that is undefined for the path (a ratio over zero, too few returns) is
None.
"""

from __future__ import annotations

import math

import numpy as np

DAYS_PER_YEAR = 252


def daily_returns(levels: np.ndarray) -> np.ndarray:
    """The daily simple returns of `levels` (one fewer than the levels)."""
    return levels[1:] / levels[:-1] - 1.0


def total_return(levels: np.ndarray) -> float | None:
    """Last equity over the initial cash, minus one; None without a simulated day."""
    return float(levels[-1] / levels[0] - 1.0) if levels.size > 1 else None


def cagr(levels: np.ndarray) -> float | None:
    """Compound annual growth rate: growth ** (252 / days) - 1, days = number of returns."""
    if levels.size < 2:
        return None
    growth = levels[-1] / levels[0]
    if growth <= 0:
        return -1.0
    return float(growth ** (DAYS_PER_YEAR / (levels.size - 1)) - 1.0)


def volatility(levels: np.ndarray) -> float | None:
    """Annualised sample standard deviation of daily returns; None below two returns."""
    r = daily_returns(levels)
    return float(np.std(r, ddof=1) * math.sqrt(DAYS_PER_YEAR)) if r.size > 1 else None


def sharpe(levels: np.ndarray) -> float | None:
    """Mean over sample standard deviation of daily returns, times sqrt(252).

    None below two returns or when every return is the same (zero dispersion).
    """
    r = daily_returns(levels)
    if r.size < 2 or np.ptp(r) == 0:
        return None
    return float(np.mean(r) / np.std(r, ddof=1) * math.sqrt(DAYS_PER_YEAR))


def downside_deviation(returns: np.ndarray) -> float:
    """Root mean square of the returns below zero, over every day (a day at or above zero
    counts as zero): sqrt(mean(min(r, 0) ** 2))."""
    return math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2))) if returns.size else 0.0


def sortino(levels: np.ndarray) -> float | None:
    """Mean daily return over the downside deviation, times sqrt(252).

    None below two returns or without a negative return (zero downside deviation).
    """
    r = daily_returns(levels)
    downside = downside_deviation(r)
    if r.size < 2 or downside == 0:
        return None
    return float(np.mean(r) / downside * math.sqrt(DAYS_PER_YEAR))


def drawdowns(levels: np.ndarray) -> np.ndarray:
    """1 - level / running peak at every level (the peak starts at the initial cash)."""
    return 1.0 - levels / np.maximum.accumulate(levels)


def max_drawdown(levels: np.ndarray) -> float | None:
    """Largest fall from a running peak, as a positive fraction; None without a day."""
    return float(np.max(drawdowns(levels))) if levels.size > 1 else None


def calmar(levels: np.ndarray) -> float | None:
    """CAGR over the maximum drawdown; None without a drawdown."""
    dd = max_drawdown(levels)
    growth = cagr(levels)
    if dd is None or dd <= 0 or growth is None:
        return None
    return growth / dd


def max_drawdown_days(levels: np.ndarray) -> int | None:
    """Trading days of the deepest drawdown: from the last day at its peak to the first day
    back at that peak, or to the last day when it never recovers (0 without a drawdown).
    Day 0 is the initial cash."""
    if levels.size < 2:
        return None
    peaks = np.maximum.accumulate(levels)
    dd = 1.0 - levels / peaks
    trough = int(np.argmax(dd))
    if dd[trough] <= 0:
        return 0
    peak = peaks[trough]
    start = int(np.flatnonzero(levels[: trough + 1] == peak)[-1])
    back = np.flatnonzero(levels[trough:] >= peak)
    end = trough + int(back[0]) if back.size else levels.size - 1
    return end - start


def time_under_water(levels: np.ndarray) -> float | None:
    """Share of simulated days that closed below the running peak (the initial cash
    included in the peak)."""
    if levels.size < 2:
        return None
    peaks = np.maximum.accumulate(levels)
    return float(np.mean(levels[1:] < peaks[1:]))
