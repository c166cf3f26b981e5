"""What the portfolio manager says about a plan: each trade's reason in the terms of the
rule that drove it, and which smart overrides ask to become core assets.

Pure functions over a `Plan` (docs/construction.md): the agent publishes what they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Set

import numpy as np

from domain import rules
from domain.config import Config
from domain.construction.inputs import Limits
from domain.construction.plan import Plan
from domain.construction.trades import LIMIT_RTOL, Trade
from domain.messages import RequestCoreDesignation
from domain.scoring import OVERRIDE_SCORE, ScoreBoard

EQUAL_WEIGHT = "equal_weight"
"""The `position_size_scaling` whose raw weights are all alike (sizing.raw_weights then
leaves the targets to the cap)."""


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


def trade_rules(trade: Trade, plan: Plan, config: Config) -> dict[str, str]:
    """The stage rules behind one trade, for its proposal's `components.rules`.

    Returns:
        ``trade``: the trades rule that had the change proposed (`Trade.rule`);
        ``raw_weight``: `sizing.raw_weights` for a sized target under a
        `position_size_scaling` other than equal_weight; ``volatility``:
        `sizing.volatility` for a sized target with `volatility_position_scaling` on.
        Only the entries that apply.
    """
    out = {}
    if trade.rule is not None:
        out["trade"] = trade.rule
    choice = plan.choices.get(trade.asset)
    sized = choice is not None and choice.selected and trade.to_weight > 0
    if sized and config.position_size_scaling != EQUAL_WEIGHT:
        out["raw_weight"] = rules.RAW_WEIGHTS.id
    if sized and config.volatility_position_scaling:
        out["volatility"] = rules.VOLATILITY.id
    return out


def limit_rules(limits: Limits) -> tuple[str, ...]:
    """The rules that changed a plan's position limits, for its rebalance notice:
    `construction.dynamic_limits` (a regime change), `construction.high_volatility`,
    `construction.concentration`, in that order."""
    found = (
        (rules.DYNAMIC_LIMITS, limits.regime_changed),
        (rules.HIGH_VOLATILITY, limits.high_volatility),
        (rules.CONCENTRATION, limits.concentrated),
    )
    return tuple(rule.id for rule, acted in found if acted)


def score_rule(
    board: ScoreBoard, column: Mapping[str, int], scores: Mapping[str, object]
) -> str | None:
    """`scoring.score` when some asset of `scores` was scored by the formula (no scripted
    override today), else None."""
    scripted = board.components[OVERRIDE_SCORE]
    formula = any(not np.isfinite(scripted[column[a]]) for a in scores if a in column)
    return rules.SCORE.id if formula else None


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
            rule=rules.OVERRIDE_CORE_REQUEST.id,
        )
    return out
