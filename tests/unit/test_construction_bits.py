"""The planner's lean numerics give numpy's bits: `abs_correlations` is np.corrcoef's
|correlation| (the operations of np.cov and np.corrcoef without their overhead, the
product by einsum rather than BLAS, within 1e-14 of np.corrcoef), on blocks with gaps,
flat columns and short histories; the market volatility's standard
deviation is np.std's; `PlanInputs.returns` and `returns_of` (columns taken from a lookback's
returns, or computed for those columns) are `log_returns` of those rows and columns; the
sizing volatilities and their factors are the masked formulas' when nothing is missing;
the ranking order is np.lexsort's."""

from __future__ import annotations

import numpy as np
import pytest

from domain.construction.buckets import abs_correlations, scale_buckets
from domain.construction.inputs import EPS, _market_volatility, _sample_std, log_returns
from domain.construction.selection import ranking_order
from domain.construction.sizing import (
    VOL_FLOOR_DAILY,
    _check_min_position,
    _volatility,
    cap_and_normalise,
    volatility_factors,
)
from tests.unit.test_construction_support import cfg, inputs


def _corrcoef(block: np.ndarray) -> np.ndarray:
    """np.corrcoef(block, rowvar=False) as numpy writes it (np.cov then the scaling),
    the product of the centred rows with their transpose by einsum, not BLAS."""
    x = block.T - np.average(block.T, axis=1)[:, None]
    c = np.einsum("ik,jk->ij", x, x, optimize=False)
    c *= np.true_divide(1, x.shape[1] - 1)
    stddev = np.sqrt(np.diag(c))
    c /= stddev[:, None]
    c /= stddev[None, :]
    return np.clip(c, -1, 1)


def _stated_abs_correlations(returns: np.ndarray, min_obs: int) -> np.ndarray:
    """The rule as first written: np.std, np.corrcoef, np.nan_to_num, np.ix_."""
    m = returns.shape[1]
    out = np.eye(m)
    if m < 2 or returns.shape[0] < max(min_obs, 2):
        return out
    usable = np.isfinite(returns).all(axis=0)
    usable[usable] = returns[:, usable].std(axis=0) > EPS
    idx = np.flatnonzero(usable)
    if idx.size >= 2:
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.abs(_corrcoef(returns[:, idx]))
        out[np.ix_(idx, idx)] = np.nan_to_num(corr, nan=0.0)
        np.fill_diagonal(out, 1.0)
    return out


def _block(rng: np.random.Generator, rows: int, m: int) -> np.ndarray:
    common = rng.normal(0.0, 0.01, size=(rows, 1))
    return common * rng.uniform(0.0, 2.0, size=m) + rng.normal(0.0, 0.01, size=(rows, m))


@pytest.mark.parametrize("m", [2, 3, 7, 12, 40])
@pytest.mark.parametrize("rows", [20, 60, 250])
def test_abs_correlations_when_random_blocks_then_same_bits_as_corrcoef(rows, m):
    rng = np.random.default_rng(rows * 100 + m)
    for _ in range(5):
        block = _block(rng, rows, m)
        got = abs_correlations(block, 20)
        assert got.tobytes() == _stated_abs_correlations(block, 20).tobytes()


@pytest.mark.parametrize("m", [2, 12, 40])
def test_abs_correlations_when_random_blocks_then_within_1e_14_of_np_corrcoef(m):
    rng = np.random.default_rng(m)
    for _ in range(5):
        block = _block(rng, 60, m)
        want = np.abs(np.corrcoef(block, rowvar=False))
        np.testing.assert_allclose(abs_correlations(block, 20), want, rtol=0, atol=1e-14)


def test_abs_correlations_when_gaps_and_flat_columns_then_same_bits_as_corrcoef():
    rng = np.random.default_rng(7)
    block = _block(rng, 60, 6)
    block[5, 1] = np.nan  # a gap: column 1 correlates with nothing
    block[:, 3] = 0.001  # flat: column 3 neither
    got = abs_correlations(block, 20)
    assert got.tobytes() == _stated_abs_correlations(block, 20).tobytes()
    assert got[1, 0] == 0.0 and got[3, 2] == 0.0 and got[1, 1] == 1.0
    assert got[0, 2] > 0.0


def test_abs_correlations_when_columns_scaled_or_negated_then_capped_at_one_as_corrcoef():
    rng = np.random.default_rng(9)
    for _ in range(20):
        x = rng.normal(0.0, 0.01, size=(60, 1))
        block = np.hstack([x, -x, 3.0 * x, x + 1e-3, _block(rng, 60, 2)])
        got = abs_correlations(block, 20)
        assert got.tobytes() == _stated_abs_correlations(block, 20).tobytes()
        assert got.max() <= 1.0


@pytest.mark.parametrize("flat", [(0,), (0, 1), (0, 1, 2)])
def test_abs_correlations_when_fewer_than_two_usable_then_identity(flat):
    block = _block(np.random.default_rng(3), 30, 3)
    block[:, list(flat)] = 0.0
    got = abs_correlations(block, 20)
    assert got.tobytes() == _stated_abs_correlations(block, 20).tobytes()
    if len(flat) >= 2:
        assert got.tobytes() == np.eye(3).tobytes()


def test_abs_correlations_when_history_short_then_identity():
    block = _block(np.random.default_rng(5), 10, 4)
    assert abs_correlations(block, 20).tobytes() == np.eye(4).tobytes()


@pytest.mark.parametrize("n", [2, 3, 8, 9, 20, 21, 200])
def test_sample_std_when_random_values_then_same_bits_as_np_std(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        values = rng.normal(0.0, 0.01, size=n)
        assert _sample_std(values).tobytes() == np.std(values, ddof=1).tobytes()


COLUMNS = ((0, 2), (1, 3, 5), (4,))


@pytest.mark.parametrize("gap", [False, True])
def test_returns_when_lookbacks_and_columns_taken_then_same_bits_as_log_returns(gap):
    rng = np.random.default_rng(11)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (61, 6)), axis=0))
    if gap:
        closes[30, 2] = np.nan  # the window's log differences are not taken whole
    inp = inputs([(t, "X", 0.7) for t in "ABCDEF"], config=cfg(), closes=closes)
    for lookback in (0, 1, 20, 59, 60, 80):
        subsets = {c: log_returns(closes[-(lookback + 1) :][:, list(c)]) for c in COLUMNS}
        for cols, subset in subsets.items():  # computed for those columns only
            assert inp.returns_of(lookback, list(cols)).tobytes() == subset.tobytes()
        expected = log_returns(closes[-(lookback + 1) :])
        got = inp.returns(lookback)
        assert got.shape == expected.shape and got.tobytes() == expected.tobytes()
        assert not got.flags.writeable
        for cols, subset in subsets.items():  # taken from the lookback's returns
            assert inp.returns_of(lookback, list(cols)).tobytes() == subset.tobytes()


def _stated_market_volatility(rets: np.ndarray) -> float:
    """The rule as first written: np.where over the gaps, np.std."""
    finite = np.isfinite(rets)
    counts = finite.sum(axis=1)
    rows = counts > 0
    if rows.sum() < 2:
        return 0.0
    values = np.where(finite, rets, 0.0)
    market = values.sum(axis=1)[rows] / counts[rows]
    return float(np.std(market, ddof=1) * np.sqrt(252))


@pytest.mark.parametrize("gap", [False, True])
@pytest.mark.parametrize("shape", [(20, 1), (20, 7), (20, 100), (20, 500), (1, 5), (20, 0)])
def test_market_volatility_when_returns_given_then_same_bits_as_stated(shape, gap):
    rng = np.random.default_rng(shape[1])
    rets = rng.normal(0.0, 0.01, size=shape)
    if gap and rets.shape[0] > 3 and rets.shape[1]:
        rets[3, 0] = np.nan
    got, stated = _market_volatility(rets), _stated_market_volatility(rets)
    assert np.float64(got).tobytes() == np.float64(stated).tobytes()


def _stated_volatility(rets: np.ndarray) -> np.ndarray:
    """The rule as first written: the sums over the finite returns only."""
    finite = np.isfinite(rets)
    count = finite.sum(axis=0)
    values = np.where(finite, rets, 0.0)
    mean = values.sum(axis=0) / np.maximum(count, 1)
    sq = np.where(finite, (rets - mean) ** 2, 0.0).sum(axis=0)
    std = np.sqrt(sq / np.maximum(count - 1, 1))
    return np.where(count >= 2, std, np.nan)


def _stated_factors(vols: np.ndarray) -> np.ndarray:
    known = np.isfinite(vols)
    if not known.any():
        return np.ones(vols.shape)
    floored = np.maximum(np.where(known, vols, 1.0), VOL_FLOOR_DAILY)
    return np.where(known, float(np.median(floored[known])) / floored, 1.0)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(20, 1), (20, 12), (60, 40), (1, 3), (2, 5)])
def test_volatility_when_returns_given_then_same_bits_as_stated(shape, order):
    rng = np.random.default_rng(shape[0] * shape[1])
    for gap in (False, True):
        rets = np.asarray(rng.normal(0.0, 0.01, size=shape), order=order)
        if gap:
            rets[0, 0] = np.nan
        vols = _volatility(rets)
        assert vols.tobytes() == _stated_volatility(rets).tobytes()
        factors = volatility_factors(vols)
        assert factors.tobytes() == _stated_factors(vols).tobytes()


def test_ranking_order_when_ties_and_nan_then_same_as_lexsort():
    rng = np.random.default_rng(21)
    for n in (0, 1, 2, 7, 50, 500):
        ticker_rank = rng.permutation(n)
        by_ticker = np.argsort(ticker_rank)
        rank = np.round(rng.uniform(0.0, 1.0, n), 2)  # many ties
        rank[rng.uniform(size=n) < 0.1] = np.nan
        rank[rng.uniform(size=n) < 0.05] = 0.0
        rank[rng.uniform(size=n) < 0.05] = -0.0
        expected = np.lexsort((ticker_rank, -rank))
        assert ranking_order(by_ticker, rank).tolist() == expected.tolist()


def _stated_cap_and_normalise(raw: np.ndarray, cap: float, target: float) -> np.ndarray:
    """The two-stage cap as first written: every pass with its masks."""
    out = np.zeros_like(raw)
    if raw.size == 0 or target <= 0:
        return out
    capped = np.zeros(raw.shape, dtype=bool)
    positive = raw > 0
    while True:
        free = positive & ~capped
        room = target - cap * capped.sum()
        total_raw = raw[free].sum()
        if room <= EPS or total_raw <= 0:
            out[free] = 0.0
            break
        out[free] = raw[free] * (room / total_raw)
        over = free & (out > cap + EPS)
        if not over.any():
            break
        capped |= over
        out[capped] = cap
    out[capped] = cap
    return out


@pytest.mark.parametrize("n", [1, 3, 7, 8, 9, 16, 40])
@pytest.mark.parametrize("cap", [0.05, 0.12, 1.0])
def test_cap_and_normalise_when_random_raw_then_same_bits_as_stated(n, cap):
    rng = np.random.default_rng(n * 10 + int(cap * 100))
    for zeros in (False, True):
        raw = rng.lognormal(0.0, 1.0, n)
        if zeros:
            raw[rng.random(n) < 0.3] = 0.0
        for target in (0.0, 0.5, 0.95):
            got = cap_and_normalise(raw, cap, target)
            assert got.tobytes() == _stated_cap_and_normalise(raw, cap, target).tobytes()


def _stated_scale_buckets(weights, member_buckets, exempt, locked_by_bucket, cap):
    """The bucket allocation limit as first written: np.bincount and np.where."""
    weights = np.asarray(weights, dtype=float).copy()
    names = sorted(set(member_buckets))
    place = {b: i for i, b in enumerate(names)}
    inverse = np.array([place[b] for b in member_buckets], dtype=np.intp)
    free = np.bincount(inverse, weights=np.where(exempt, 0.0, weights), minlength=len(names))
    allowed = np.array([max(cap - locked_by_bucket.get(b, 0.0), 0.0) for b in names])
    over = free > allowed + EPS
    factor = np.where(over, allowed / np.where(free > 0, free, 1.0), 1.0)
    weights *= np.where(exempt, 1.0, factor[inverse])
    return weights, {str(b): float(f) for b, f, o in zip(names, factor, over, strict=True) if o}


@pytest.mark.parametrize("n", [1, 5, 12, 30])
def test_scale_buckets_when_random_books_then_same_bits_as_stated(n):
    rng = np.random.default_rng(n)
    for cap in (0.1, 0.25, 1.0):
        weights = rng.uniform(0.0, 0.1, n)
        buckets = [f"B{k}" for k in rng.integers(0, 4, n)]
        exempt = rng.random(n) < 0.2
        locked = {"B1": 0.05, "B3": 0.3}
        got, factors = scale_buckets(weights, buckets, exempt, locked, cap)
        want, want_factors = _stated_scale_buckets(weights, buckets, exempt, locked, cap)
        assert got.tobytes() == want.tobytes() and factors == want_factors
        assert list(factors) == list(want_factors)


def test_check_min_position_when_ties_then_worst_ranked_smallest_dropped():
    inp = inputs([("A", "X", 0.9), ("B", "X", 0.8), ("C", "X", 0.7)], config=cfg())
    rank = np.array([0.9, 0.8, 0.7])
    limit = inp.config.min_position_size
    w = np.array([limit / 2, limit * 2, limit / 2])
    assert _check_min_position(inp, w, [0, 1, 2], rank) == 2  # C ranks below A
    assert _check_min_position(inp, np.array([limit, limit * 2, 0.0]), [0, 1, 2], rank) == 2
    assert _check_min_position(inp, np.array([limit * 2] * 3), [0, 1, 2], rank) is None
