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

A position sizing drops records its reason with the rule (`selection.Reason`):
sizing.no_room, sizing.raw_weights (no fixed size), sizing.min_position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from domain import rules
from domain.buckets import UNKNOWN_BUCKET
from domain.config import Config
from domain.construction.buckets import bucket_room
from domain.construction.inputs import EPS, PlanInputs, log_returns
from domain.construction.selection import MIN_SIZE, NO_ROOM, NO_SIZE, Reason
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
        cap: the most any one position may hold (finite: `max_single_position_size`).
        target: what the positions should add up to.

    Returns:
        Weights with no element above `cap`, summing to `min(target, n x cap)`, and
        proportional to `raw` among the uncapped positions.
    """
    raw = np.asarray(raw, dtype=float)
    out = np.zeros_like(raw)
    if raw.size == 0 or target <= 0:
        return out
    positive = raw > 0
    if positive.all():  # the common case: the loop's first pass, without its masks
        total_raw = np.add.reduce(raw)
        if target <= EPS or total_raw <= 0:
            return out
        out = raw * (target / total_raw)
        capped = out > cap + EPS
        if not capped.any():
            return out
        out[capped] = cap
    else:
        capped = np.zeros(raw.shape, dtype=bool)
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
    return _volatility(log_returns(np.asarray(closes, dtype=float)[-(int(lookback) + 1) :]))


def _volatility(rets: np.ndarray) -> np.ndarray:
    """`asset_volatility` from the log returns of its lookback."""
    finite = np.isfinite(rets)
    if rets.shape[0] >= 2 and finite.all():  # the common case: the same sums, no gaps
        rows = rets.shape[0]
        mean = rets.sum(axis=0) / rows
        return np.sqrt(((rets - mean) ** 2).sum(axis=0) / (rows - 1))
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
    if known.all():  # the common case: the same values without the masks
        floored = np.maximum(vols, VOL_FLOOR_DAILY)
        return _median(floored) / floored
    floored = np.maximum(np.where(known, vols, 1.0), VOL_FLOOR_DAILY)
    median = _median(floored[known])
    return np.where(known, median / floored, 1.0)


def _median(values: np.ndarray) -> float:
    """np.median of a 1-D array without NaN, bit for bit (the middle value, or the mean
    of the two middle ones), without np.median's overhead on a few values."""
    ordered = np.sort(values)
    mid = ordered.size // 2
    if ordered.size % 2:
        return float(ordered[mid])
    return float((ordered[mid - 1] + ordered[mid]) / 2.0)


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


class _Pot:
    """The weights a residual is being shared into, with each bucket's room left."""

    def __init__(
        self,
        weights: np.ndarray,
        buckets: Sequence[str | None],
        room: Mapping[str, float],
        cap: float,
    ) -> None:
        self.w = np.asarray(weights, dtype=float).copy()
        self.base = self.w.copy()
        self.added = np.zeros(self.w.size)
        self.buckets = buckets
        self.room = dict(room)
        self.cap = cap

    def bucket_left(self, i: int) -> float:
        b = self.buckets[i]
        return np.inf if b is None else self.room.get(b, np.inf)

    def take(self, i: int, amount: float) -> None:
        self.w[i] += amount
        self.added[i] += amount
        b = self.buckets[i]
        if b is not None:
            self.room[b] = self.room.get(b, np.inf) - amount


def allocate_residual(
    weights: np.ndarray,
    scores: np.ndarray,
    tickers: Sequence[str],
    buckets: Sequence[str | None],
    room: Mapping[str, float],
    config: Config,
    residual: float,
) -> tuple[np.ndarray, ResidualReport]:
    """Share the residual by `residual_strategy` (sizing.residual; seed 002, residual with
    safety caps).

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
    strategy = config.residual_strategy
    residual = max(float(residual), 0.0)
    if residual <= config.residual_leftover_threshold:
        w = np.asarray(weights, dtype=float).copy()
        return w, ResidualReport(residual, strategy, (), {}, 0.0, residual)
    pot = _Pot(weights, buckets, room, config.max_single_position_size)
    order = sorted(range(pot.w.size), key=lambda i: (-float(scores[i]), tickers[i]))
    if strategy == CASH_BUCKET:
        path, cash, unallocated = (CASH_BUCKET,), residual, 0.0
    elif strategy == PROPORTIONAL:
        path, cash, unallocated = (PROPORTIONAL,), 0.0, _proportional(pot, order, residual)
    elif strategy == SAFE_TOP_SLICE:
        path, cash, unallocated = _safe_top_slice(pot, order, residual, config)
    else:
        raise ValueError(f"unknown residual_strategy {strategy!r}")
    added = {
        tickers[i]: float(pot.added[i])
        for i in sorted(range(pot.w.size), key=tickers.__getitem__)
        if pot.added[i] > 0
    }
    return pot.w, ResidualReport(
        residual, strategy, path, added, float(cash), float(max(unallocated, 0.0))
    )


def _proportional(pot: _Pot, order: list[int], residual: float) -> float:
    """Each position gets residual x its share, within its cap and bucket; the rest is
    returned (unallocated)."""
    total = pot.w.sum()
    for i in order if total > EPS else ():
        amount = min(residual * pot.base[i] / total, pot.cap - pot.w[i], pot.bucket_left(i))
        if amount > EPS:
            pot.take(i, amount)
    return max(residual - pot.added.sum(), 0.0)


def _safe_top_slice(
    pot: _Pot, order: list[int], residual: float, config: Config
) -> tuple[tuple[str, ...], float, float]:
    """The top slice, then the leftover's fallback. Returns (path, cash bucket,
    unallocated)."""
    per_asset = config.max_residual_per_asset_pct
    multiple = config.max_residual_position_multiple
    left = residual
    for i in order:
        if left <= EPS:
            break
        amount = min(
            left, per_asset, multiple * pot.base[i], pot.cap - pot.w[i], pot.bucket_left(i)
        )
        if amount > MIN_RESIDUAL_ADDITION:
            pot.take(i, amount)
            left -= amount
    if left <= config.residual_leftover_threshold:
        return (SAFE_TOP_SLICE,), 0.0, left
    return _leftover(pot, order, left, per_asset)


def _leftover(
    pot: _Pot, order: list[int], left: float, per_asset: float
) -> tuple[tuple[str, ...], float, float]:
    """safe_top_slice's leftover: proportionally if that places at least 80 % of it, else
    all of it is the cash bucket. Returns (path, cash bucket, unallocated)."""
    total = pot.w.sum()
    tentative: dict[int, float] = {}
    saved_room = dict(pot.room)
    for i in order if total > EPS else ():
        amount = min(
            left * pot.w[i] / total,
            per_asset - pot.added[i],
            pot.cap - pot.w[i],
            pot.bucket_left(i),
        )
        if amount > MIN_RESIDUAL_ADDITION:
            tentative[i] = amount
            b = pot.buckets[i]
            if b is not None:
                pot.room[b] = pot.room.get(b, np.inf) - amount
    placed = sum(tentative.values())
    pot.room = saved_room
    if placed < PROPORTIONAL_SUCCESS * left:
        return (SAFE_TOP_SLICE, CASH_BUCKET), left, 0.0
    for i, amount in tentative.items():
        pot.take(i, amount)
    return (SAFE_TOP_SLICE, PROPORTIONAL), 0.0, left - placed


@attrs.frozen
class Sizing:
    """The outcome of `size_positions`.

    Attributes:
        weights: column -> target weight (after residual and drawdown).
        dropped: column -> why sizing removed the position (reason code, detail, rule).
        bucket_scaling: bucket -> factor, for every bucket scaled down.
        residual: The residual report.
        drawdown_factor: The drawdown multiplier applied (1.0 when none).
        volatility_factors: column -> the inverse-volatility multiplier used (1.0 off).
    """

    weights: Mapping[int, float] = attrs.field(converter=_frozen)
    dropped: Mapping[int, Reason] = attrs.field(converter=_frozen)
    bucket_scaling: Mapping[str, float] = attrs.field(converter=_frozen)
    residual: ResidualReport
    drawdown_factor: float = 1.0
    volatility_factors: Mapping[int, float] = attrs.field(factory=dict, converter=_frozen)


@attrs.frozen
class _Frame:
    """What sizing works within: the room, the cap, the bucket limit and locked weights."""

    room: float
    cap: float
    locked: Mapping[str, float]
    locked_by_bucket: Mapping[str, float]
    buckets: np.ndarray
    diversify: bool
    limit: float

    @classmethod
    def of(cls, inp: PlanInputs) -> _Frame:
        cfg = inp.config
        locked = {a: w for a, w in sorted(inp.locked.items()) if w > EPS}
        bucket_of = inp.bucket_of()
        by_bucket: dict[str, float] = {}
        for asset, w in locked.items():
            b = bucket_of.get(asset, UNKNOWN_BUCKET)
            by_bucket[b] = by_bucket.get(b, 0.0) + w
        return cls(
            room=max(cfg.target_total_allocation - sum(locked.values()), 0.0),
            cap=cfg.max_single_position_size,
            locked=locked,
            locked_by_bucket=by_bucket,
            buckets=inp.bucket_array(),
            diversify=cfg.enable_bucket_diversification,
            limit=cfg.max_bucket_allocation,
        )


@attrs.frozen
class _Sized:
    """The viable positions after steps 1-5 and how they were sized."""

    active: list[int]
    weights: np.ndarray
    scaling: dict[str, float]
    exempt: np.ndarray
    vol_factor: dict[int, float]


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
    frame = _Frame.of(inp)
    active = [int(j) for j in chosen]
    vol_of = _volatilities(inp, active)
    dropped = inp.stages.check_no_room(inp, frame, active)
    if dropped:
        active = []
    sized = _size_viable(inp, frame, active, vol_of, overrides, rank, dropped)
    w, report = _residual(inp, frame, sized)
    factor = inp.stages.drawdown_factor(inp)
    return Sizing(
        weights=dict(zip(sized.active, (w * factor).tolist(), strict=True)),
        dropped=dropped,
        bucket_scaling=sized.scaling,
        residual=report,
        drawdown_factor=factor,
        volatility_factors={j: sized.vol_factor.get(j, 1.0) for j in sized.active},
    )


def _volatilities(inp: PlanInputs, active: list[int]) -> dict[int, float] | None:
    """sizing.volatility: each column's daily volatility, or None with the scaling off."""
    cfg = inp.config
    if not (cfg.volatility_position_scaling and inp.closes is not None and active):
        return None
    vols = _volatility(inp.returns(cfg.volatility_lookback)[:, active])
    return dict(zip(active, vols.tolist(), strict=True))


def _check_no_room(inp: PlanInputs, frame: _Frame, active: list[int]) -> dict[int, Reason]:
    """sizing.no_room: when locked positions take all of `target_total_allocation`,
    nothing else is sized."""
    if frame.room > EPS:
        return {}
    detail = (
        f"no room: locked positions take {sum(frame.locked.values()):.4f} of"
        f" target_total_allocation {inp.config.target_total_allocation}"
    )
    return {j: Reason(NO_ROOM, detail, rules.NO_ROOM) for j in active}


def _size_viable(
    inp: PlanInputs,
    frame: _Frame,
    active: list[int],
    vol_of: dict[int, float] | None,
    overrides: frozenset[int],
    rank: np.ndarray,
    dropped: dict[int, Reason],
) -> _Sized:
    """Steps 1-5: size, and drop the smallest position below `min_position_size` until
    none is (`dropped` collects why)."""
    cfg, stages = inp.config, inp.stages
    active = list(active)  # dropped positions are deleted from it: never the caller's list
    for _ in range(len(active) + 1):
        raw = stages.raw_weights(inp.score[active], cfg, frame.room)
        sized = raw > 0
        if not sized.all():
            for j in [j for j, r in zip(active, raw.tolist(), strict=True) if r <= 0]:
                dropped[j] = _no_fixed_size(inp, j)
            active = [j for j, ok in zip(active, sized.tolist(), strict=True) if ok]
            raw = raw[sized]
        vol_factor: dict[int, float] = {}
        if vol_of is not None and active:
            factors = stages.volatility_factors(np.array([vol_of[j] for j in active]))
            vol_factor = dict(zip(active, factors.tolist(), strict=True))
            raw = raw * factors
        w = stages.cap_and_normalise(raw, frame.cap, frame.room)
        exempt = np.array([j in overrides for j in active], dtype=bool)
        scaling: dict[str, float] = {}
        if frame.diversify and active:
            w, scaling = stages.scale_buckets(
                w, frame.buckets[active], exempt, frame.locked_by_bucket, frame.limit
            )
        i = stages.check_min_position(inp, w, active, rank)
        if i is None:
            return _Sized(active, w, scaling, exempt, vol_factor)
        dropped[active[i]] = Reason(
            MIN_SIZE,
            f"sized {float(w[i]):.4f} below min_position_size {cfg.min_position_size}: "
            "dropped and the rest re-sized",
            rules.MIN_POSITION,
        )
        del active[i]
    raise AssertionError("sizing did not converge")  # pragma: no cover - the loop returns


def _no_fixed_size(inp: PlanInputs, j: int) -> Reason:
    """sizing.raw_weights: fixed sizing gives no position below its lowest category."""
    return Reason(
        NO_SIZE,
        f"score {float(inp.score[j]):.3f} below every fixed size category (0.6)",
        rules.RAW_WEIGHTS,
    )


def _check_min_position(
    inp: PlanInputs, w: np.ndarray, active: list[int], rank: np.ndarray
) -> int | None:
    """sizing.min_position: the position to drop (the smallest below `min_position_size`,
    of equal ones the worst-ranked), or None when every one is viable."""
    below = inp.config.min_position_size - EPS
    values = w.tolist()  # a few positions: plain floats, the same comparisons
    small = [i for i, x in enumerate(values) if x < below or x <= EPS]
    if not small:
        return None
    smallest = min(values[i] for i in small)
    ties = [i for i in small if values[i] <= smallest + EPS]
    # Of equally small positions the worst-ranked goes first (ticker order breaks ties).
    return max(ties, key=lambda i: (-float(rank[active[i]]), inp.tickers[active[i]]))


def _residual(inp: PlanInputs, frame: _Frame, sized: _Sized) -> tuple[np.ndarray, ResidualReport]:
    """Step 6: the residual, within each bucket's room (overrides have no bucket limit)."""
    w, active = sized.weights, sized.active
    residual = max(frame.room - float(w.sum()), 0.0)
    names = inp.bucket_names()
    member_buckets = [names[j] for j in active]
    if frame.diversify:
        left = bucket_room(w, member_buckets, sized.exempt, frame.locked_by_bucket, frame.limit)
        res_buckets: list[str | None] = [
            None if ex else b for b, ex in zip(member_buckets, sized.exempt.tolist(), strict=True)
        ]
    else:
        left, res_buckets = {}, [None] * len(active)
    return inp.stages.allocate_residual(
        w,
        inp.score[active],
        [inp.tickers[j] for j in active],
        res_buckets,
        left,
        inp.config,
        residual,
    )


def _check_drawdown(inp: PlanInputs) -> float:
    """sizing.drawdown: the factor on every planned weight (1.0 unless the drawdown is
    above `drawdown_trigger`)."""
    cfg = inp.config
    return cfg.drawdown_position_reduction if inp.drawdown > cfg.drawdown_trigger else 1.0
