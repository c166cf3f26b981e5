"""What the portfolio manager says about a plan: each trade's reason in the terms of the
rule that drove it, and which smart overrides ask to become core assets.

Pure functions over a `Plan` (docs/construction.md): the agent publishes what they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

from domain.construction.plan import Plan
from domain.construction.trades import LIMIT_RTOL, Trade
from domain.messages import RequestCoreDesignation


def trade_reason(trade: Trade, plan: Plan, score: float, cap: float) -> str:
    """Why the plan wants `trade`, in the terms of the rule that drove it.

    Args:
        trade: the trade.
        plan: the plan it comes from.
        score: the asset's score today.
        cap: `max_single_position_size`.

    Returns:
        An open or close: the selection's reason (a close of a selected asset: its target
        went to 0 by drawdown reduction; an open to 0: an open decided earlier today,
        withdrawn). A re-size: its target and score, then every sizing rule that moved it
        (the cap trim, a selection reason other than kept or new, bucket scaling, the
        residual, drawdown reduction).
    """
    choice = plan.choices.get(trade.asset)
    if trade.action in ("open", "close") and choice is not None:
        if trade.action == "close" and choice.selected:  # only a zero drawdown factor
            return f"{choice.detail}; target 0 after drawdown reduction"
        if trade.action == "open" and trade.to_weight <= 0:
            return f"open decided earlier today withdrawn: {choice.detail}"
        return choice.detail
    notes = []
    if trade.action == "reduce" and trade.from_weight > cap * (1 + LIMIT_RTOL):
        notes.append(
            f"would end the day at {trade.from_weight:.4f}, above max_single_position_size"
            f" {cap}: trimmed"
        )
    if choice is not None and choice.reason not in ("kept", "new"):
        notes.append(choice.detail)
    scale = plan.bucket_scaling.get(choice.bucket) if choice is not None else None
    if scale is not None:
        notes.append(f"{choice.bucket} scaled x{scale:.4f} to max_bucket_allocation")
    if plan.residual.added.get(trade.asset):
        notes.append(f"residual +{plan.residual.added[trade.asset]:.4f}")
    if plan.drawdown_factor != 1.0:
        notes.append(f"drawdown reduction x{plan.drawdown_factor}")
    extra = f"; {'; '.join(notes)}" if notes else ""
    return f"re-sized to target {trade.to_weight:.4f} (score {score:.3f}){extra}"


def core_requests(
    plan: Plan,
    day: dt.date,
    *,
    threshold: float,
    core: Set[str],
    requested: Set[str],
) -> dict[str, RequestCoreDesignation]:
    """The plan's smart overrides that ask for core designation.

    An override asks when its score reaches `threshold` (`core_asset_override_threshold`),
    it is not core already, and it was not already requested since it became an override.

    Args:
        plan: today's plan.
        day: today.
        threshold: the score an override needs.
        core: the current core assets.
        requested: the overrides already requested (and still overrides).

    Returns:
        asset -> its request, in the plan's override order.
    """
    out: dict[str, RequestCoreDesignation] = {}
    for asset in plan.overrides:
        choice = plan.choices[asset]
        if choice.score < threshold or asset in core or asset in requested:
            continue
        out[asset] = RequestCoreDesignation(
            asset=asset,
            score=choice.score,
            reason=f"bucket override on {day.isoformat()}: {choice.detail}",
        )
    return out
