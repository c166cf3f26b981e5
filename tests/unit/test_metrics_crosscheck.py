"""The performance metrics against an independent implementation, empyrical-reloaded.

Both read the same daily simple returns (empyrical derives them itself from the levels,
the initial cash first) and annualise with 252 days, a zero risk-free rate, the sample
standard deviation and years counted in returns, so every value agrees to 1e-9 relative.
The one adaptation: empyrical's max drawdown is negative (ours is the fall, a positive
fraction), and where empyrical gives NaN or infinity (a ratio over zero) ours is None.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.read.metrics import performance as perf

ep = pytest.importorskip(
    "empyrical",
    reason="empyrical-reloaded is not installed (pip install -e '.[test]' brings it)",
)

RTOL = 1e-9


def _levels(returns: np.ndarray, cash: float = 1_000_000.0) -> np.ndarray:
    return cash * np.concatenate([[1.0], np.cumprod(1.0 + returns)])


def _random_walk() -> np.ndarray:
    return _levels(np.random.default_rng(7).normal(0.0004, 0.012, 500))


def _crash_and_recovery() -> np.ndarray:
    rng = np.random.default_rng(13)
    rise = rng.normal(0.002, 0.005, 60)
    crash = np.full(10, -0.045)
    recovery = rng.normal(0.004, 0.006, 150)
    return _levels(np.concatenate([rise, crash, recovery]))


def _monotone_rise() -> np.ndarray:
    return _levels(np.random.default_rng(5).uniform(0.0001, 0.002, 300))


def _flat() -> np.ndarray:
    return np.full(101, 1_000_000.0)


PATHS = {
    "random walk": _random_walk,
    "crash and recovery": _crash_and_recovery,
    "monotone rise": _monotone_rise,
    "flat": _flat,
}

PAIRS = {
    "sharpe": (perf.sharpe, lambda r: ep.sharpe_ratio(r)),
    "sortino": (perf.sortino, lambda r: ep.sortino_ratio(r)),
    "calmar": (perf.calmar, lambda r: ep.calmar_ratio(r)),
    "volatility": (perf.volatility, lambda r: ep.annual_volatility(r)),
    "max_drawdown": (perf.max_drawdown, lambda r: -ep.max_drawdown(r)),
    "cagr": (perf.cagr, lambda r: ep.cagr(r)),
}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("metric", sorted(PAIRS))
def test_metric_when_compared_with_empyrical_then_agrees_to_1e_9(path, metric):
    levels = PATHS[path]()
    ours_fn, theirs_fn = PAIRS[metric]
    ours, theirs = ours_fn(levels), float(theirs_fn(ep.simple_returns(levels)))
    if math.isfinite(theirs):
        assert ours is not None and math.isclose(ours, theirs, rel_tol=RTOL), (ours, theirs)
    else:
        assert ours is None, (ours, theirs)


def test_paths_when_built_then_each_exercises_its_case():
    """The four paths are what their names say (so the cross-check covers each case)."""
    crash = _crash_and_recovery()
    assert perf.max_drawdown(crash) > 0.3 and crash[-1] > np.max(crash[:61])
    assert perf.max_drawdown(_monotone_rise()) == 0 and perf.sortino(_monotone_rise()) is None
    assert perf.volatility(_flat()) == 0 and perf.sharpe(_flat()) is None
    walk = _random_walk()
    assert perf.max_drawdown(walk) > 0 and np.any(np.diff(walk) > 0)
