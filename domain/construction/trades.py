"""From targets to trades, and which days are rebalance days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from domain.construction.inputs import EPS
from domain.messages import CLOSE, INCREASE, OPEN, REDUCE

CAP_TOLERANCE = 0.001
"""A holding is trimmed back to the cap once it is more than this fraction above it (so
the weight a fill's commission adds to a capped position does not trigger daily trims)."""


@attrs.frozen
class Trade:
    """One proposed change of target weight."""

    asset: str
    action: str
    from_weight: float
    to_weight: float
    reason: str


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
) -> list[Trade]:
    """Trades that move `current` weights to `targets` (assets in neither are untouched).

    Every holding absent from `targets` is closed. Changes smaller than
    `min_trade_weight` are not proposed; opens and closes always are, and so is a reduce
    of a holding more than `CAP_TOLERANCE` (0.1 %) above `cap` (`max_single_position_size`),
    however small (the cap is a hard limit). Bucket limits are hard too: when the weights
    the book would have after these trades (untraded assets keeping their current or
    decided weight) put a bucket more than `CAP_TOLERANCE` above `bucket_limit`, every
    changed target in that bucket is proposed, however small.

    With `baseline` (the targets already decided this step, in a re-plan round), an asset
    is proposed again only when its new target differs from its decided one; the trade
    itself is still described from the current book, and a target back at the current
    weight is proposed too (it undoes the earlier decision, which the broker would
    otherwise execute).
    """
    skip_set = set(skip)
    baseline = baseline or {}
    assets = sorted((set(current) | set(targets) | set(baseline)) - skip_set)
    reference = {**current, **baseline}
    first = {a: _trade(a, current, targets, baseline, min_trade_weight, cap) for a in assets}
    tight: frozenset[str] = frozenset()
    if bucket_of is not None and bucket_limit is not None:
        after = dict(reference)
        after.update({a: t.to_weight for a, t in first.items() if t is not None})
        tight = _over_limit_buckets(after, bucket_of, bucket_limit) | _over_limit_buckets(
            current, bucket_of, bucket_limit
        )
    trades = []
    for asset in assets:
        in_tight = bucket_of is not None and bucket_of.get(asset) in tight
        trade = _trade(asset, current, targets, baseline, EPS, cap) if in_tight else first[asset]
        if trade is not None:
            trades.append(trade)
    return trades


def _trade(
    asset: str,
    current: Mapping[str, float],
    targets: Mapping[str, float],
    baseline: Mapping[str, float],
    min_trade: float,
    cap: float | None,
) -> Trade | None:
    """The trade for one asset, or None (see `diff_trades`)."""
    before = current.get(asset, 0.0)
    after = targets.get(asset, 0.0)
    min_trade = max(min_trade, EPS)
    redo = False
    if asset in baseline:
        decided = baseline[asset]
        if (decided <= EPS) == (after <= EPS) and abs(decided - after) < min_trade:
            return None
        redo = True
    if before <= EPS and after <= EPS:
        return None
    if before <= EPS:
        return Trade(asset, OPEN, 0.0, after, "new position")
    if after <= EPS:
        return Trade(asset, CLOSE, before, 0.0, "target 0")
    if after - before >= min_trade:
        return Trade(asset, INCREASE, before, after, "re-sized up")
    trim = cap is not None and before > cap * (1 + CAP_TOLERANCE) and after < before
    if before - after >= min_trade or trim:
        return Trade(asset, REDUCE, before, after, "re-sized down")
    if redo:
        action = INCREASE if after >= baseline[asset] else REDUCE
        return Trade(asset, action, before, after, "re-plan: back to target")
    return None


def _over_limit_buckets(
    current: Mapping[str, float],
    bucket_of: Mapping[str, str] | None,
    limit: float | None,
) -> frozenset[str]:
    """Buckets whose current weight is more than `CAP_TOLERANCE` above `limit`."""
    if bucket_of is None or limit is None:
        return frozenset()
    totals: dict[str, float] = {}
    for asset, weight in current.items():
        bucket = bucket_of.get(asset)
        if bucket is not None:
            totals[bucket] = totals.get(bucket, 0.0) + weight
    return frozenset(b for b, w in totals.items() if w > limit * (1 + CAP_TOLERANCE))


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
