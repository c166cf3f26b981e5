"""Sizing: from the selected assets to target weights (behaviour.md section 5).

1. Raw weights by `position_size_scaling` (`raw_weights`), from the undecayed scores.
2. Volatility scaling (`volatility_position_scaling`): raw x (median vol / own vol) over
   `volatility_lookback` daily returns, before any cap.
3. Two-stage cap and normalise (`cap_and_normalise`) to what is left of
   `target_total_allocation` after locked positions.
4. Bucket allocation limit: a bucket above `max_bucket_allocation` is scaled down
   proportionally (smart overrides exempt, locked weights counted).
5. Minimum size: while a position is below `min_position_size`, the smallest one is
   dropped and steps 1-4 are redone without it.
6. Residual (room minus allocated, when above `residual_leftover_threshold`) by
   `residual_strategy` (`allocate_residual`).
7. Drawdown: every planned weight x `drawdown_position_reduction` while the
   portfolio's drawdown exceeds `drawdown_trigger`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from domain.config import Config
from domain.construction.buckets import bucket_room, scale_buckets
from domain.construction.inputs import EPS, PlanInputs, log_returns
from domain.construction.selection import MIN_SIZE, NO_ROOM, NO_SIZE
from domain.scenario import UNKNOWN_BUCKET
from domain.scoring import SIGMA_FLOOR_ANNUAL, TRADING_DAYS_PER_YEAR

MIN_RESIDUAL_ADDITION = 0.001
"""A residual addition this small or smaller is not made (seed 002: no tiny allocations)."""
PROPORTIONAL_SUCCESS = 0.8
"""safe_top_slice's proportional fallback counts as placed when this share of it is."""
VOL_FLOOR_DAILY = SIGMA_FLOOR_ANNUAL / np.sqrt(TRADING_DAYS_PER_YEAR)
"""Lowest daily volatility used for scaling (so a flat price does not divide by zero)."""

SAFE_TOP_SLICE = "safe_top_slice"
PROPORTIONAL = "proportional"
CASH_BUCKET = "cash_bucket"


def _frozen(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(value))


def cap_and_normalise(raw: np.ndarray, cap: float, target: float) -> np.ndarray:
    """Two-stage sizing: cap, then share what is left among uncapped positions, repeatedly.

    Args:
        raw: non-negative raw weights (relative sizes).
        cap: the most any one position may hold.
        target: what the positions should add up to.

    Returns:
        Weights with no element above `cap`, summing to `min(target, n x cap)`, and
        proportional to `raw` among the uncapped positions.
    """
    raw = np.asarray(raw, dtype=float)
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


def raw_weights(score: np.ndarray, config: Config, target: float) -> np.ndarray:
    """Relative sizes by `position_size_scaling` (behaviour.md section 5).

    equal_weight: 1 each; score_weighted: the score; adaptive: target / n x (1 + score /
    sum of scores); fixed: `base_position_size` x 1.5 / 1.2 / 1.0 / 0.8 for scores from
    0.9 / 0.8 / 0.7 / 0.6, else 0 (no position).
    """
    score = np.asarray(score, dtype=float)
    n = score.size
    if n == 0:
        return score
    mode = config.position_size_scaling
    if mode == "equal_weight":
        return np.ones(n)
    if mode == "score_weighted":
        return score.copy()
    if mode == "adaptive":
        total = score.sum()
        share = score / total if total > 0 else np.full(n, 1.0 / n)
        return target / n * (1.0 + share)
    if mode == "fixed":
        multiplier = np.select(
            [score >= 0.9, score >= 0.8, score >= 0.7, score >= 0.6], [1.5, 1.2, 1.0, 0.8], 0.0
        )
        return config.base_position_size * multiplier
    raise ValueError(f"unknown position_size_scaling {mode!r}")


def asset_volatility(closes: np.ndarray, lookback: int) -> np.ndarray:
    """Daily volatility of each column: sample std (ddof 1) of its last `lookback` log
    returns (gaps forward-filled); NaN with fewer than two returns."""
    rets = log_returns(np.asarray(closes, dtype=float)[-(int(lookback) + 1) :])
    finite = np.isfinite(rets)
    count = finite.sum(axis=0)
    values = np.where(finite, rets, 0.0)
    mean = values.sum(axis=0) / np.maximum(count, 1)
    sq = np.where(finite, (rets - mean) ** 2, 0.0).sum(axis=0)
    std = np.sqrt(sq / np.maximum(count - 1, 1))
    return np.where(count >= 2, std, np.nan)


def volatility_factors(vols: np.ndarray) -> np.ndarray:
    """Inverse-volatility multipliers: median vol / own vol (vols floored at 8 % a year).

    The median is over the assets given with a known volatility; an asset without one
    gets 1.
    """
    vols = np.asarray(vols, dtype=float)
    known = np.isfinite(vols)
    if not known.any():
        return np.ones(vols.shape)
    floored = np.maximum(np.where(known, vols, 1.0), VOL_FLOOR_DAILY)
    median = float(np.median(floored[known]))
    return np.where(known, median / floored, 1.0)


@attrs.frozen
class ResidualReport:
    """What happened to the residual of one plan.

    Attributes:
        residual: The room left after sizing (target minus locked minus allocated).
        strategy: `residual_strategy`.
        path: The steps taken: () when the residual was at most
            `residual_leftover_threshold`; ("safe_top_slice",), then "proportional" or
            "cash_bucket" for the leftover; ("proportional",); ("cash_bucket",).
        added: asset -> weight added to it.
        cash_bucket: Weight reported as the cash bucket (a synthetic cash-equivalent:
            it stays in cash).
        unallocated: Weight left in cash for any other reason (too small, or caps).
    """

    residual: float = 0.0
    strategy: str = SAFE_TOP_SLICE
    path: tuple[str, ...] = ()
    added: Mapping[str, float] = attrs.field(factory=dict, converter=_frozen)
    cash_bucket: float = 0.0
    unallocated: float = 0.0


def allocate_residual(
    weights: np.ndarray,
    scores: np.ndarray,
    tickers: Sequence[str],
    buckets: Sequence[str | None],
    room: Mapping[str, float],
    config: Config,
    residual: float,
) -> tuple[np.ndarray, ResidualReport]:
    """Share the residual by `residual_strategy` (seed 002, residual with safety caps).

    safe_top_slice: by score descending, each position gets at most
    `max_residual_per_asset_pct`, `max_residual_position_multiple` x its size, what its
    cap and its bucket allow; an addition of 0.001 or less is skipped. A leftover above
    `residual_leftover_threshold` is tried proportionally to the positions (each within
    the same per-asset limit, counting what it already got, its cap and its bucket); that
    counts when at least 80 % of the leftover is placed (the rest stays unallocated),
    otherwise nothing of it is placed and all of it is the cash bucket.
    proportional: every position gets residual x its share of the total, within its cap
    and its bucket; what does not fit stays unallocated. cash_bucket: all of it is the
    cash bucket.

    Args:
        weights: Sized weights.
        scores: Their (undecayed) scores.
        tickers: Their tickers.
        buckets: Their buckets for the allocation limit; None for no limit.
        room: bucket -> weight the bucket may still take.
        config: The configuration.
        residual: What is left to share.

    Returns:
        The new weights and the report.
    """
    w = np.asarray(weights, dtype=float).copy()
    base = w.copy()
    strategy = config.residual_strategy
    residual = max(float(residual), 0.0)
    threshold = config.residual_leftover_threshold
    if residual <= threshold:
        return w, ResidualReport(residual, strategy, (), {}, 0.0, residual)
    cap = config.max_single_position_size
    per_asset = config.max_residual_per_asset_pct
    multiple = config.max_residual_position_multiple
    room = dict(room)
    added = np.zeros(w.size)
    order = sorted(range(w.size), key=lambda i: (-float(scores[i]), tickers[i]))

    def bucket_left(i: int) -> float:
        b = buckets[i]
        return np.inf if b is None else room.get(b, np.inf)

    def take(i: int, amount: float) -> None:
        w[i] += amount
        added[i] += amount
        if buckets[i] is not None:
            room[buckets[i]] = room.get(buckets[i], np.inf) - amount

    cash = unallocated = 0.0
    if strategy == CASH_BUCKET:
        path: tuple[str, ...] = (CASH_BUCKET,)
        cash = residual
    elif strategy == PROPORTIONAL:
        path = (PROPORTIONAL,)
        total = w.sum()
        for i in order if total > EPS else ():
            amount = min(residual * base[i] / total, cap - w[i], bucket_left(i))
            if amount > EPS:
                take(i, amount)
        unallocated = max(residual - added.sum(), 0.0)
    elif strategy == SAFE_TOP_SLICE:
        path = (SAFE_TOP_SLICE,)
        left = residual
        for i in order:
            if left <= EPS:
                break
            amount = min(left, per_asset, multiple * base[i], cap - w[i], bucket_left(i))
            if amount > MIN_RESIDUAL_ADDITION:
                take(i, amount)
                left -= amount
        if left > threshold:
            total = w.sum()
            tentative: dict[int, float] = {}
            saved_room = dict(room)
            for i in order if total > EPS else ():
                amount = min(left * w[i] / total, per_asset - added[i], cap - w[i], bucket_left(i))
                if amount > MIN_RESIDUAL_ADDITION:
                    tentative[i] = amount
                    if buckets[i] is not None:
                        room[buckets[i]] = room.get(buckets[i], np.inf) - amount
            placed = sum(tentative.values())
            room = saved_room
            if placed >= PROPORTIONAL_SUCCESS * left:
                path += (PROPORTIONAL,)
                for i, amount in tentative.items():
                    take(i, amount)
                unallocated = left - placed
            else:
                path += (CASH_BUCKET,)
                cash = left
        else:
            unallocated = left
    else:
        raise ValueError(f"unknown residual_strategy {strategy!r}")
    report = ResidualReport(
        residual=residual,
        strategy=strategy,
        path=path,
        added={
            tickers[i]: float(added[i])
            for i in sorted(range(w.size), key=tickers.__getitem__)
            if added[i] > 0
        },
        cash_bucket=float(cash),
        unallocated=float(max(unallocated, 0.0)),
    )
    return w, report


@attrs.frozen
class Sizing:
    """The outcome of `size_positions`.

    Attributes:
        weights: column -> target weight (after residual and drawdown).
        dropped: column -> (reason, detail) for positions sizing removed.
        bucket_scaling: bucket -> factor, for every bucket scaled down.
        residual: The residual report.
        drawdown_factor: The drawdown multiplier applied (1.0 when none).
        volatility_factors: column -> the inverse-volatility multiplier used (1.0 off).
    """

    weights: Mapping[int, float] = attrs.field(converter=_frozen)
    dropped: Mapping[int, tuple[str, str]] = attrs.field(converter=_frozen)
    bucket_scaling: Mapping[str, float] = attrs.field(converter=_frozen)
    residual: ResidualReport
    drawdown_factor: float = 1.0
    volatility_factors: Mapping[int, float] = attrs.field(factory=dict, converter=_frozen)


def size_positions(
    inp: PlanInputs, chosen: Sequence[int], overrides: frozenset[int], rank: np.ndarray
) -> Sizing:
    """Target weights of the chosen columns (see the module docstring for the steps).

    Args:
        inp: The planner's inputs (locked positions keep their weights).
        chosen: Columns to size.
        overrides: Columns admitted by a smart override (exempt from the bucket limit).
        rank: Ranking scores (which of two equally small positions goes first).

    Returns:
        The sizing.
    """
    cfg = inp.config
    locked = {a: w for a, w in sorted(inp.locked.items()) if w > EPS}
    room = max(cfg.target_total_allocation - sum(locked.values()), 0.0)
    cap = cfg.max_single_position_size
    buckets = inp.bucket_array()
    bucket_of = inp.bucket_of()
    locked_by_bucket: dict[str, float] = {}
    for asset, w in locked.items():
        b = bucket_of.get(asset, UNKNOWN_BUCKET)
        locked_by_bucket[b] = locked_by_bucket.get(b, 0.0) + w
    diversify = cfg.enable_bucket_diversification
    limit = cfg.max_bucket_allocation

    vol_factor: dict[int, float] = {}
    active = [int(j) for j in chosen]
    if cfg.volatility_position_scaling and inp.closes is not None and active:
        vols = asset_volatility(inp.closes[:, active], cfg.volatility_lookback)
        vol_of = dict(zip(active, vols.tolist(), strict=True))
    else:
        vol_of = None

    dropped: dict[int, tuple[str, str]] = {}
    w = np.zeros(0)
    scaling: dict[str, float] = {}
    exempt = np.zeros(0, dtype=bool)
    if room <= EPS:
        for j in active:
            dropped[j] = (
                NO_ROOM,
                f"no room: locked positions take {sum(locked.values()):.4f} of"
                f" target_total_allocation {cfg.target_total_allocation}",
            )
        active = []
    for _ in range(len(active) + 1):
        raw = raw_weights(inp.score[active], cfg, room)
        for j in [j for j, r in zip(active, raw, strict=True) if r <= 0]:
            dropped[j] = (
                NO_SIZE,
                f"score {float(inp.score[j]):.3f} below every fixed size category (0.6)",
            )
        active = [j for j, r in zip(active, raw, strict=True) if r > 0]
        raw = raw[raw > 0]
        if vol_of is not None and active:
            factors = volatility_factors(np.array([vol_of[j] for j in active]))
            vol_factor = dict(zip(active, factors.tolist(), strict=True))
            raw = raw * factors
        w = cap_and_normalise(raw, cap, room)
        exempt = np.array([j in overrides for j in active], dtype=bool)
        scaling = {}
        if diversify and active:
            w, scaling = scale_buckets(w, buckets[active], exempt, locked_by_bucket, limit)
        small = np.flatnonzero((w < cfg.min_position_size - EPS) | (w <= EPS))
        if small.size == 0:
            break
        smallest = w[small].min()
        ties = [int(i) for i in small if w[i] <= smallest + EPS]
        # Of equally small positions the worst-ranked goes first (ticker order breaks ties).
        i = max(ties, key=lambda i: (-float(rank[active[i]]), inp.tickers[active[i]]))
        dropped[active[i]] = (
            MIN_SIZE,
            f"sized {float(w[i]):.4f} below min_position_size {cfg.min_position_size}: "
            "dropped and the rest re-sized",
        )
        del active[i]
    else:  # pragma: no cover - the loop always ends by the break (nothing left to drop)
        raise AssertionError("sizing did not converge")

    residual = max(room - float(w.sum()), 0.0)
    member_buckets = [str(b) for b in buckets[active]]
    if diversify:
        left = bucket_room(w, member_buckets, exempt, locked_by_bucket, limit)
        res_buckets: list[str | None] = [
            None if ex else b for b, ex in zip(member_buckets, exempt, strict=True)
        ]
    else:
        left, res_buckets = {}, [None] * len(active)
    w, report = allocate_residual(
        w,
        inp.score[active],
        [inp.tickers[j] for j in active],
        res_buckets,
        left,
        cfg,
        residual,
    )
    factor = 1.0
    if inp.drawdown > cfg.drawdown_trigger:
        factor = cfg.drawdown_position_reduction
        w = w * factor
    return Sizing(
        weights={j: float(x) for j, x in zip(active, w, strict=True)},
        dropped=dropped,
        bucket_scaling=scaling,
        residual=report,
        drawdown_factor=factor,
        volatility_factors={j: vol_factor.get(j, 1.0) for j in active},
    )
