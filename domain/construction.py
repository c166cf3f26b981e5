"""Portfolio construction: from today's scores to target weights, and from targets to trades.

This is the portfolio manager's brain, as pure functions over numpy arrays:

1. `select`: keep holdings whose (undecayed) score meets `min_score_threshold` (or
   `min_score_new_position` when their maximum-holding review is due); open the best new
   candidates that are valid, trending (>= `trending_confidence_new`) and score
   >= `min_score_new_position`, within `max_new_positions` and `max_total_positions`.
2. `raw_weights` by `position_size_scaling`, then `cap_and_normalise` (two stages: cap at
   `max_single_position_size`, share the rest of the target among uncapped positions in
   proportion to their raw weights, repeat until nothing exceeds the cap).
3. Positions below `min_position_size` are dropped and the rest re-sized (documented rule).
4. `diff_trades`: open / close / increase / reduce for every change of at least
   `min_trade_weight`.

Locked assets (already decided this step, in a re-plan round) keep their weights; sizing
shares only what is left of the target among the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from domain.messages import CLOSE, INCREASE, OPEN, REDUCE

EPS = 1e-12


@attrs.frozen
class PlanInputs:
    """Everything the planner reads for one rebalance (column-aligned arrays)."""

    tickers: tuple[str, ...]
    score: np.ndarray
    trending: np.ndarray
    valid: np.ndarray
    weights: Mapping[str, float]
    config: Any
    locked: Mapping[str, float] = attrs.field(factory=dict)
    excluded: frozenset[str] = frozenset()
    new_budget: int | None = None
    review_due: frozenset[str] = frozenset()
    max_total: int | None = None


@attrs.frozen
class Trade:
    """One proposed change of target weight."""

    asset: str
    action: str
    from_weight: float
    to_weight: float
    reason: str


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


def raw_weights(score: np.ndarray, config: Any, target: float) -> np.ndarray:
    """Relative sizes by `position_size_scaling` (behaviour.md section 5)."""
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


def select(inp: PlanInputs) -> list[int]:
    """Columns to hold after this rebalance (locked assets excluded), best first."""
    cfg = inp.config
    index = {t: j for j, t in enumerate(inp.tickers)}
    keep: list[int] = []
    for asset in sorted(inp.weights):
        if asset in inp.locked or inp.weights[asset] <= EPS or asset not in index:
            continue
        j = index[asset]
        threshold = (
            cfg.min_score_new_position if asset in inp.review_due else cfg.min_score_threshold
        )
        if inp.score[j] >= threshold:
            keep.append(j)
    max_total = inp.max_total if inp.max_total is not None else cfg.max_total_positions
    slots = max_total - len(keep) - sum(1 for w in inp.locked.values() if w > EPS)
    budget = cfg.max_new_positions if inp.new_budget is None else inp.new_budget
    held = {a for a, w in inp.weights.items() if w > EPS} | set(inp.locked)
    eligible = (
        inp.valid
        & (inp.trending >= cfg.trending_confidence_new)
        & (inp.score >= cfg.min_score_new_position)
    )
    candidates = [
        j
        for j in np.flatnonzero(eligible)
        if inp.tickers[j] not in held and inp.tickers[j] not in inp.excluded
    ]
    candidates.sort(key=lambda j: (-inp.score[j], inp.tickers[j]))
    new = candidates[: max(0, min(budget, slots))]
    chosen = keep + new
    chosen.sort(key=lambda j: (-inp.score[j], inp.tickers[j]))
    return chosen


def plan_targets(inp: PlanInputs) -> dict[str, float]:
    """Target weights for every asset the plan holds (locked assets at their locked weight)."""
    cfg = inp.config
    locked = {a: w for a, w in inp.locked.items() if w > EPS}
    room = max(cfg.target_total_allocation - sum(locked.values()), 0.0)
    chosen = select(inp)
    for _ in range(len(chosen) + 1):
        scores = inp.score[chosen] if chosen else np.zeros(0)
        raw = raw_weights(scores, cfg, room)
        keep_mask = raw > 0
        chosen = [j for j, k in zip(chosen, keep_mask, strict=True) if k]
        raw = raw[keep_mask]
        weights = cap_and_normalise(raw, cfg.max_single_position_size, room)
        small = weights < cfg.min_position_size - EPS
        if not small.any():
            break
        chosen = [j for j, s in zip(chosen, small, strict=True) if not s]
    targets = dict(locked)
    for j, w in zip(chosen, weights, strict=True):
        targets[inp.tickers[j]] = float(w)
    return targets


def diff_trades(
    current: Mapping[str, float],
    targets: Mapping[str, float],
    *,
    min_trade_weight: float,
    skip: Sequence[str] = (),
    baseline: Mapping[str, float] | None = None,
) -> list[Trade]:
    """Trades that move `current` weights to `targets` (assets in neither are untouched).

    Every holding absent from `targets` is closed. Changes smaller than
    `min_trade_weight` are not proposed; opens and closes always are. With `baseline`
    (the targets already decided this step, in a re-plan round), an asset is proposed
    again only when its new target differs from its decided one; the trade itself is
    still described from the current book.
    """
    skip_set = set(skip)
    baseline = baseline or {}
    trades: list[Trade] = []
    for asset in sorted(set(current) | set(targets) | set(baseline)):
        if asset in skip_set:
            continue
        before = current.get(asset, 0.0)
        after = targets.get(asset, 0.0)
        if asset in baseline:
            decided = baseline[asset]
            if (decided <= EPS) == (after <= EPS) and abs(decided - after) < min_trade_weight:
                continue
        if before <= EPS and after <= EPS:
            continue
        if before <= EPS:
            trades.append(Trade(asset, OPEN, 0.0, after, "new position"))
        elif after <= EPS:
            trades.append(Trade(asset, CLOSE, before, 0.0, "not selected"))
        elif after - before >= min_trade_weight:
            trades.append(Trade(asset, INCREASE, before, after, "re-sized up"))
        elif before - after >= min_trade_weight:
            trades.append(Trade(asset, REDUCE, before, after, "re-sized down"))
    return trades


def rebalance_due(frequency: str, day: Any, previous: Any | None) -> bool:
    """Whether `day` is a rebalance day: every day (daily), the first simulated day of each
    ISO week (weekly) or of each month (monthly). The first simulated day always is."""
    if previous is None or frequency == "daily":
        return True
    if frequency == "weekly":
        return day.isocalendar()[:2] != previous.isocalendar()[:2]
    if frequency == "monthly":
        return (day.year, day.month) != (previous.year, previous.month)
    raise ValueError(f"unknown rebalance_frequency {frequency!r}")
