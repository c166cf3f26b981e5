"""Selection status of every asset of the universe, and what changed since the last plan.

The plan gives a `Choice` (a reason with its numbers) for every holding and every new
candidate. An asset that is neither has a reason too, found here without building a
`Choice` for it: it cannot be traded today (`not_tradable`: no price or no score), its
open was blocked earlier this step (`open_blocked`), its trending confidence is below
`trending_confidence_new` (`not_trending`), or its score is below
`min_score_new_position` (`below_open_threshold`). Locked assets (decided this step, or
proposed by a protection) are not planned, so they keep the status they had.

`selection_changes` compares today's statuses with the last ones recorded and describes
only the assets whose status (selected, reason) changed, so a run records one message
per change, not one per asset per day (docs/construction.md, "Explanations").
"""

from __future__ import annotations

import attrs
import numpy as np

from domain import rules
from domain.construction.inputs import PlanInputs
from domain.construction.plan import Plan
from domain.construction.selection import REJECTED_REASONS, SELECTED_REASONS

NOT_TRADABLE = "not_tradable"
OPEN_BLOCKED = "open_blocked"
NOT_TRENDING = "not_trending"
BELOW_OPEN = "below_open_threshold"
UNIVERSE_REASONS: tuple[str, ...] = (NOT_TRADABLE, OPEN_BLOCKED, NOT_TRENDING, BELOW_OPEN)
"""Reasons of assets outside the plan's universe (neither held nor a candidate)."""
UNIVERSE_RULES = {
    NOT_TRADABLE: rules.UNIVERSE.id,
    OPEN_BLOCKED: rules.REPLAN.id,
    NOT_TRENDING: rules.UNIVERSE.id,
    BELOW_OPEN: rules.OPEN_THRESHOLD.id,
}
"""The rule behind each of those reasons (a blocked open is excluded by the re-plan)."""
REASONS: tuple[str, ...] = SELECTED_REASONS + REJECTED_REASONS + UNIVERSE_REASONS
"""Every reason a status may have; a `StatusBoard` holds each as its place here."""
_CODE = {reason: i for i, reason in enumerate(REASONS)}
UNKNOWN = -1
"""The board's code of a reason not known yet (never planned)."""


@attrs.frozen
class Status:
    """One asset's place in today's plan.

    Attributes:
        asset: The ticker.
        selected: Whether the plan holds it.
        reason: A `Choice` reason code, or one of `UNIVERSE_REASONS`.
        detail: The reason in words, with the numbers behind it.
        score: Today's (undecayed) score.
        trending: Today's trending confidence.
        bucket: Its bucket.
        rule: The id of the rule behind the reason (`domain.rules`).
    """

    asset: str
    selected: bool
    reason: str
    detail: str
    score: float
    trending: float
    bucket: str
    rule: str


@attrs.frozen
class StatusBoard:
    """Every asset's (selected, reason), aligned with the planner's tickers; a reason is
    its place in `REASONS` (`UNKNOWN`: never planned)."""

    selected: np.ndarray
    reason: np.ndarray

    @classmethod
    def empty(cls, n: int) -> StatusBoard:
        """No status known for any of `n` assets."""
        return cls(np.zeros(n, dtype=bool), np.full(n, UNKNOWN, dtype=np.int8))


def _codes(inp: PlanInputs, plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(selected, reason code, planned) for every column; `planned` is False for locked
    ones."""
    cfg = inp.config
    reason = np.where(
        inp.valid,
        np.where(
            inp.trending < cfg.trending_confidence_new, _CODE[NOT_TRENDING], _CODE[BELOW_OPEN]
        ),
        _CODE[NOT_TRADABLE],
    ).astype(np.int8)
    selected = np.zeros(inp.n_assets, dtype=bool)
    planned = np.ones(inp.n_assets, dtype=bool)
    column = inp.column
    for asset in inp.excluded:
        if asset in column:
            reason[column[asset]] = _CODE[OPEN_BLOCKED]
    for asset in inp.locked:
        if asset in column:
            planned[column[asset]] = False
    noted = plan.column_codes(column)
    if noted:
        columns, chosen, codes = zip(*noted, strict=True)
        cols = list(columns)
        reason[cols] = [_CODE[c] for c in codes]
        selected[cols] = chosen
        planned[cols] = True
    return selected, reason, planned


def _universe_detail(inp: PlanInputs, j: int, reason: str) -> str:
    """The detail of an asset outside the plan's universe (one of `UNIVERSE_REASONS`)."""
    cfg = inp.config
    if reason == NOT_TRADABLE:
        return "cannot be traded today: no price or no score"
    if reason == OPEN_BLOCKED:
        return "its open was blocked earlier today: not a candidate for the rest of the day"
    if reason == NOT_TRENDING:
        return (
            f"trending {float(inp.trending[j]):.2f} below trending_confidence_new"
            f" {cfg.trending_confidence_new}"
        )
    return (
        f"score {float(inp.score[j]):.3f} below min_score_new_position {cfg.min_score_new_position}"
    )


def _status(
    inp: PlanInputs, plan: Plan, j: int, selected: bool, code: int, names: tuple[str, ...]
) -> Status:
    """Column j's status: its plan `Choice` when it has one, else its universe reason
    (`names`: the bucket of each column)."""
    asset, reason = inp.tickers[j], REASONS[code]
    described = plan.described(asset)
    if described is None:
        detail, rule = _universe_detail(inp, j, reason), UNIVERSE_RULES[reason]
    else:
        detail, rule = described
    return Status(
        asset=asset,
        selected=selected,
        reason=reason,
        detail=detail,
        score=round(float(inp.score[j]), 6),
        trending=round(float(inp.trending[j]), 6),
        bucket=str(names[j]),
        rule=rule,
    )


def selection_changes(
    inp: PlanInputs, plan: Plan, last: StatusBoard
) -> tuple[list[Status], StatusBoard]:
    """The statuses that differ from `last`, and the board to compare the next plan with.

    Args:
        inp: The plan's inputs.
        plan: The plan.
        last: The statuses recorded so far.

    Returns:
        (changed statuses in ticker order, the updated board).
    """
    selected, reason, planned = _codes(inp, plan)
    changed = np.flatnonzero(planned & ((reason != last.reason) | (selected != last.selected)))
    changed = changed[np.argsort(inp.ticker_rank[changed], kind="stable")]
    names = inp.bucket_names()
    out = [
        _status(inp, plan, j, chosen, code, names)
        for j, chosen, code in zip(
            changed.tolist(), selected[changed].tolist(), reason[changed].tolist(), strict=True
        )
    ]
    board = StatusBoard(
        np.where(planned, selected, last.selected), np.where(planned, reason, last.reason)
    )
    return out, board
