"""Holding period: a new position is left alone for a few days, and old ones get reviewed.

Before `position_holding_period_min` calendar days since entry, closes, reduces and
increases of a position are blocked (a regime override may lift the block, see
`domain.resolution`). Every `position_holding_period_max` days a holding is due a
forced review: a holding_review notice asks the portfolio manager to check it still
meets `min_score_new_position`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.config import Config
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
from domain.rules import Rule

GUARDED = frozenset({CLOSE, REDUCE, INCREASE})

_SECTION = "6. Protection managers / Holding period"
MINIMUM = Rule(
    "holding_period.minimum",
    ("position_holding_period_min",),
    "Before position_holding_period_min days since entry, close, reduce and increase are blocked",
    _SECTION,
)
FORCED_REVIEW = Rule(
    "holding_period.forced_review",
    ("position_holding_period_max", "min_score_new_position"),
    "Every position_holding_period_max days a holding gets a forced review (it must score"
    " min_score_new_position to stay)",
    "3. Universe, scoring, selection (portfolio manager)",
)


class HoldingPeriodProtection(Protection):
    """Minimum holding period and periodic forced review of long holdings. Entry dates are
    the book's (`PositionView.entered`); this protection keeps only its last reviews."""

    name = "holding_period"
    rules = (MINIMUM, FORCED_REVIEW)
    observes = frozenset({TradeFilled.KIND})

    def __init__(self, config: Config, *, priority: int, options: Mapping[str, Any] | None = None):
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
        out: list[Message] = []
        for asset in sorted(ctx.holdings):
            notice = self._check_forced_review(asset, ctx.holdings[asset].entered or ctx.date, ctx)
            if notice is not None:
                out.append(notice)
        return out

    def _check_forced_review(
        self, asset: str, entered: dt.date, ctx: DayContext
    ) -> NoticeIssued | None:
        """holding_period.forced_review: a holding_review notice once the days since entry,
        or since the last review, reach `position_holding_period_max`."""
        anchor = self._last_review.get(asset, entered)
        if (ctx.date - anchor).days < self.config.position_holding_period_max:
            return None
        self._last_review[asset] = ctx.date
        required = self.config.min_score_new_position
        score = ctx.scores.get(asset)
        days = (ctx.date - entered).days
        return NoticeIssued(
            event="holding_review",
            asset=asset,
            details={
                "days_held": days,
                "entered": entered,
                "required_score": required,
                "score": None if score is None else float(score),
                "meets_required": None if score is None else float(score) >= required,
                "reason": (
                    f"held {days} days: forced review, must score at least {required} to stay"
                ),
            },
            rule=FORCED_REVIEW.id,
        )

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Block a close, reduce or increase before the minimum holding period."""
        entered = None if ctx.position is None else ctx.position.entered
        if entered is None:
            return self.verdict(proposal, ABSTAIN, f"{proposal.asset} is not held")
        return self._check_minimum(proposal, (ctx.date - entered).days)

    def _check_minimum(self, proposal: ProposeTrade, held: int) -> ProposalReviewed:
        """holding_period.minimum: a close, reduce or increase of a position held fewer than
        `position_holding_period_min` days is blocked."""
        minimum = self.config.position_holding_period_min
        if held < minimum and proposal.action in GUARDED:
            return self.verdict(
                proposal, BLOCK, f"held {held} of {minimum} minimum days", rule=MINIMUM.id
            )
        return self.verdict(
            proposal, APPROVE, f"held {held} days (minimum {minimum})", rule=MINIMUM.id
        )

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"days_held": n} for a held asset of known entry date."""
        if position is None or position.entered is None:
            return {}
        return {"days_held": (day - position.entered).days}
