"""Holding period: a new position is left alone for a few days, and old ones get reviewed.

Before `position_holding_period_min` calendar days since entry, closes, reduces and
increases of a position are blocked (a regime override may lift the block, see
`domain.resolution`). Every `position_holding_period_max` days a holding is due a
forced review: a holding_review notice asks the portfolio manager to check it still
meets `min_score_new_position`.

Entry dates are the book's (`PositionView.entered`, kept by `domain.execution.Book`):
the protection keeps only when it last asked for a review of each holding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.messages import (
    ABSTAIN,
    APPROVE,
    BLOCK,
    CLOSE,
    INCREASE,
    REDUCE,
    Message,
    NoticeIssued,
    ProposalReviewed,
    ProposeTrade,
    TradeFilled,
)
from domain.protections.base import DayContext, PositionView, Protection, ReviewContext

GUARDED = frozenset({CLOSE, REDUCE, INCREASE})


class HoldingPeriodProtection(Protection):
    """Minimum holding period and periodic forced review of long holdings."""

    name = "holding_period"

    def __init__(self, config: Any, *, priority: int = 4, options: Mapping[str, Any] | None = None):
        super().__init__(config, priority=priority, options=options)
        self._last_review: dict[str, dt.date] = {}

    def observe(self, message: Message, day: dt.date) -> None:
        """A sell to zero ends the position's review period."""
        if isinstance(message, TradeFilled) and message.closes_position:
            self._last_review.pop(message.asset, None)

    def housekeep(self, ctx: DayContext) -> list[Message]:
        """Issue a holding_review notice for each holding whose review period has run out
        (a holding of unknown entry date counts as entered today)."""
        for asset in sorted(self._last_review):
            if asset not in ctx.holdings:
                del self._last_review[asset]
        period = int(self.config.position_holding_period_max)
        out: list[Message] = []
        for asset in sorted(ctx.holdings):
            entered = ctx.holdings[asset].entered or ctx.date
            anchor = self._last_review.get(asset, entered)
            if (ctx.date - anchor).days < period:
                continue
            self._last_review[asset] = ctx.date
            required = float(self.config.min_score_new_position)
            score = ctx.scores.get(asset)
            out.append(
                NoticeIssued(
                    event="holding_review",
                    asset=asset,
                    details={
                        "days_held": (ctx.date - entered).days,
                        "entered": entered,
                        "required_score": required,
                        "score": None if score is None else float(score),
                        "meets_required": None if score is None else float(score) >= required,
                        "reason": (
                            f"held {(ctx.date - entered).days} days: forced review, must score"
                            f" at least {required} to stay"
                        ),
                    },
                )
            )
        return out

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Block a close, reduce or increase before the minimum holding period."""
        entered = None if ctx.position is None else ctx.position.entered
        if entered is None:
            return self.verdict(proposal, ABSTAIN, f"{proposal.asset} is not held")
        held = (ctx.date - entered).days
        minimum = int(self.config.position_holding_period_min)
        if held < minimum and proposal.action in GUARDED:
            return self.verdict(proposal, BLOCK, f"held {held} of {minimum} minimum days")
        return self.verdict(proposal, APPROVE, f"held {held} days (minimum {minimum})")

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"days_held": n} for a held asset of known entry date."""
        if position is None or position.entered is None:
            return {}
        return {"days_held": (day - position.entered).days}
