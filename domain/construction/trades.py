"""From targets to trades, and which days are rebalance days.

Weights here are **end-of-day** weights: a target is the weight an asset is to have
after the day's trades (the broker sizes fills against the equity after the day's costs,
`domain.execution`). An asset the day does not trade keeps its units, so the day's
commission and slippage, which leave equity, lift its weight by the day's *drift*
(equity before / equity after). `diff_trades` projects that drift from the day's planned
trades and describes every trade from the weight the asset would end the day at without
it (`from_weight` = today's weight x drift), so that a trade's action is the direction of
its fill and a holding the costs alone would lift above a hard limit is traded too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from domain.construction.inputs import EPS
from domain.execution import NO_COSTS, CostRates, post_trade_factor, side_of
from domain.messages import CLOSE, INCREASE, OPEN, REDUCE
from domain.rules import BUCKET_LIMIT, CAP_TRIM, MIN_TRADE, REPLAN

LIMIT_RTOL = 1e-12
"""A weight within this relative distance of a hard limit (cap, bucket) is at the limit,
not above it (float rounding of a position filled exactly at the limit)."""
MAX_PASSES = 20
"""Most re-computations of the trades as the projected drift grows (2 or 3 in practice)."""


@attrs.frozen
class Trade:
    """One proposed change of target weight (both weights end-of-day, see the module)."""

    asset: str
    action: str
    from_weight: float
    to_weight: float
    reason: str
    rule: str | None = None
    """The trades rule that had the change proposed (docs/event-db.md, "Rules"): a
    re-size `trades.min_trade` (the change reached `min_trade_weight`), `trades.cap_trim`
    or `trades.bucket_limit` (a smaller change proposed for a hard limit); a re-plan's
    undo or withdrawal `resolution.replan`; None for an open or a close."""


@attrs.frozen
class _Rules:
    """What decides whether a change is proposed (see `diff_trades`; `exempt` holds the
    smart bucket overrides, which neither count towards a bucket nor are scaled)."""

    min_trade: float
    cap: float | None
    bucket_of: Mapping[str, str] | None
    bucket_limit: float | None
    exempt: frozenset[str]


def diff_trades(
    current: Mapping[str, float],
    targets: Mapping[str, float],
    *,
    min_trade_weight: float,
    skip: Sequence[str] = (),
    baseline: Mapping[str, float] | None = None,
    cap: float | None = None,
    bucket_of: Mapping[str, str] | None = None,
    bucket_limit: float | None = None,
    rates: CostRates = NO_COSTS,
    fixed: Mapping[str, tuple[float, str]] | None = None,
    exempt: frozenset[str] = frozenset(),
) -> list[Trade]:
    """Trades that move `current` weights to `targets` (assets in neither are untouched).

    Every holding absent from `targets` is closed. A change smaller than
    `min_trade_weight` is not proposed; opens and closes always are, and so is a reduce
    of a holding that would end the day above `cap` (`max_single_position_size`),
    however small (the cap is a hard limit). Bucket limits are hard too: when the weights
    the book would end the day with (untraded assets lifted by the day's drift) put a
    bucket above `bucket_limit`, every changed target in that bucket is proposed, however
    small; and when the drift would still leave a bucket above its limit (the plan sized it
    around locked weights that the drift lifts), the bucket's tradable members' targets are
    scaled down proportionally to fit. Smart bucket overrides (`exempt`) neither count nor
    are scaled.

    With `baseline` (weights decided earlier this step), an asset is proposed again only
    when its new target differs from its decided one, a target back at the current weight
    included (an undo); an open decided earlier that the plan leaves out is withdrawn (an
    open from 0 to 0). The broker executes the last decision of the day.

    Args:
        current: Today's weights before trading.
        targets: The plan's end-of-day targets.
        min_trade_weight: The smallest change worth a trade.
        skip: Assets not to trade (locked: decided already, or proposed by a protection).
        baseline: Weights decided earlier this step (re-plan rounds).
        cap: `max_single_position_size`, or None for no trim.
        bucket_of: asset -> bucket, or None for no bucket rule.
        bucket_limit: `max_bucket_allocation`.
        rates: The day's cost rates (commission and slippage), for the drift.
        fixed: asset -> (end-of-day target, side) of every other trade the day will make
            (locked proposals, decisions of earlier rounds that stand).
        exempt: Assets exempt from the bucket limit (smart bucket overrides).

    Returns:
        The trades, in asset order.
    """
    rules = _Rules(max(min_trade_weight, EPS), cap, bucket_of, bucket_limit, exempt)
    return _settle_drift(
        current, targets, set(skip), dict(baseline or {}), dict(fixed or {}), rules, rates
    )


def _settle_drift(
    current: Mapping[str, float],
    targets: Mapping[str, float],
    skip: set[str],
    baseline: Mapping[str, float],
    fixed: Mapping[str, tuple[float, str]],
    rules: _Rules,
    rates: CostRates,
) -> list[Trade]:
    """The trades once the day's projected drift settles: first without drift, then, while
    the drift the trades imply grows, with the buckets fitted to it and the trades
    re-computed (at most `MAX_PASSES` times). Re-computed trades that make the day's
    trades the same (asset, target, side) as before imply the same drift (equal targets
    are the same double, or both zero, which the cost solver treats alike), which has not
    grown: they are the answer without solving for it again."""
    drift, trades = 1.0, _diff(current, targets, skip, baseline, fixed, rules, 1.0)
    day = _day_trades(trades, fixed)
    for _ in range(MAX_PASSES):
        new_drift = _projected_drift(current, day, rates)
        if new_drift <= drift:
            break
        drift = new_drift
        fitted = _fit_buckets(current, targets, skip, fixed, rules, drift)
        trades = _diff(current, fitted, skip, baseline, fixed, rules, drift)
        again = _day_trades(trades, fixed)
        if again == day:
            break
        day = again
    return trades


def _day_trades(
    trades: Sequence[Trade], fixed: Mapping[str, tuple[float, str]]
) -> list[tuple[str, float, str]]:
    """(asset, end-of-day target, side) of every trade the day would make: `trades` and
    the `fixed` ones, in asset order."""
    day = {**fixed, **{t.asset: (t.to_weight, side_of(t.action)) for t in trades}}
    return [(a, *day[a]) for a in sorted(day)]


def _projected_drift(
    current: Mapping[str, float], day: list[tuple[str, float, str]], rates: CostRates
) -> float:
    """Equity before / equity after the day's costs, were the day to make the trades of
    `day` (`_day_trades`; 1 when the costs would leave nothing)."""
    factor = post_trade_factor(current, day, rates)
    return 1.0 / factor if factor > 0 else 1.0


def _fit_buckets(
    current: Mapping[str, float],
    targets: Mapping[str, float],
    skip: set[str],
    fixed: Mapping[str, tuple[float, str]],
    rules: _Rules,
    drift: float,
) -> Mapping[str, float]:
    """`targets`, with the tradable members of every bucket the day would leave above its
    limit scaled down proportionally to fit (the plan sized the bucket around locked
    weights; the day's drift lifts the untraded ones a little more)."""
    if rules.bucket_of is None or rules.bucket_limit is None:
        return targets
    exempt = rules.exempt
    end = {a: w * drift for a, w in current.items()}
    end.update({a: t for a, (t, _) in fixed.items() if a in skip})
    movable = (set(current) | set(targets)) - skip - exempt
    end.update({a: targets.get(a, 0.0) for a in movable})
    total: dict[str, float] = {}
    free: dict[str, float] = {}
    for asset, weight in end.items():
        bucket = rules.bucket_of.get(asset)
        if bucket is None or asset in exempt:
            continue
        total[bucket] = total.get(bucket, 0.0) + weight
        if asset in movable:
            free[bucket] = free.get(bucket, 0.0) + weight
    limit = rules.bucket_limit
    scale = {
        b: max(limit - (w - free[b]), 0.0) / free[b]
        for b, w in total.items()
        if w > limit * (1 + LIMIT_RTOL) and free.get(b, 0.0) > EPS
    }
    if not scale:
        return targets
    out = dict(targets)
    for asset in movable & set(targets):
        factor = scale.get(rules.bucket_of.get(asset, ""))
        if factor is not None and factor < 1.0:
            out[asset] = targets[asset] * factor
    return out


def _diff(
    current: Mapping[str, float],
    targets: Mapping[str, float],
    skip: set[str],
    baseline: Mapping[str, float],
    fixed: Mapping[str, tuple[float, str]],
    rules: _Rules,
    drift: float,
) -> list[Trade]:
    """The trades for one projected drift (see `diff_trades`)."""
    lifted = {a: w * drift for a, w in current.items()}
    assets = sorted((set(current) | set(targets) | set(baseline)) - skip)
    first = {a: _trade(a, lifted, targets, baseline, rules.min_trade, rules.cap) for a in assets}
    tight: frozenset[str] = frozenset()
    if rules.bucket_of is not None and rules.bucket_limit is not None:
        after = {**lifted, **baseline, **{a: t for a, (t, _) in fixed.items()}}
        after.update({a: t.to_weight for a, t in first.items() if t is not None})
        tight = _over_limit_buckets(after, rules.bucket_of, rules.bucket_limit)
        tight |= _over_limit_buckets(lifted, rules.bucket_of, rules.bucket_limit)
    if not tight:  # no bucket at its limit: the first pass's trades, in asset order
        return [trade for trade in first.values() if trade is not None]
    trades = []
    for asset in assets:
        in_tight = rules.bucket_of is not None and rules.bucket_of.get(asset) in tight
        if in_tight:
            trade = _trade(asset, lifted, targets, baseline, EPS, rules.cap)
            if trade is not None:  # a change only the bucket limit has proposed names it
                found = first[asset]
                trade = attrs.evolve(trade, rule=BUCKET_LIMIT.id if found is None else found.rule)
        else:
            trade = first[asset]
        if trade is not None:
            trades.append(trade)
    return trades


def _trade(
    asset: str,
    lifted: Mapping[str, float],
    targets: Mapping[str, float],
    baseline: Mapping[str, float],
    min_trade: float,
    cap: float | None,
) -> Trade | None:
    """The trade for one asset, or None (see `diff_trades`); `lifted` holds the weights
    the assets would end the day at without a trade."""
    before = lifted.get(asset, 0.0)
    after = targets.get(asset, 0.0)
    redo = False
    if asset in baseline:
        decided = baseline[asset]
        if (decided <= EPS) == (after <= EPS) and abs(decided - after) < min_trade:
            return None
        redo = True
    if before <= EPS and after <= EPS:
        if redo and baseline[asset] > EPS:
            why = "re-plan: the open decided earlier is withdrawn"
            return Trade(asset, OPEN, 0.0, 0.0, why, REPLAN.id)
        return None
    if before <= EPS:
        return Trade(asset, OPEN, 0.0, after, "new position")
    if after <= EPS:
        return Trade(asset, CLOSE, before, 0.0, "target 0")
    if after - before >= min_trade:
        return Trade(asset, INCREASE, before, after, "re-sized up", MIN_TRADE.id)
    trim = cap is not None and before > cap * (1 + LIMIT_RTOL) and after < before
    if before - after >= min_trade or trim:
        rule = MIN_TRADE if before - after >= min_trade else CAP_TRIM
        return Trade(asset, REDUCE, before, after, "re-sized down", rule.id)
    if redo:  # the direction of the fill; at equal weights, the way back from the decision
        up = after > before + EPS or (abs(after - before) <= EPS and after >= baseline[asset])
        action = INCREASE if up else REDUCE
        return Trade(asset, action, before, after, "re-plan: back to target", REPLAN.id)
    return None


def _over_limit_buckets(
    weights: Mapping[str, float], bucket_of: Mapping[str, str], limit: float
) -> frozenset[str]:
    """Buckets whose weight is above `limit` (beyond `LIMIT_RTOL`)."""
    totals: dict[str, float] = {}
    for asset, weight in weights.items():
        bucket = bucket_of.get(asset)
        if bucket is not None:
            totals[bucket] = totals.get(bucket, 0.0) + weight
    return frozenset(b for b, w in totals.items() if w > limit * (1 + LIMIT_RTOL))


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
