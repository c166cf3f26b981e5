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
from domain.protections.base import DayContext, Protection, ReviewContext, StartingHolding
from domain.rules import Rule

EPS = 1e-12
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
    """Minimum holding period and periodic forced review of long holdings."""

    name = "holding_period"
    rules = (MINIMUM, FORCED_REVIEW)

    def __init__(self, config: Any, *, priority: int, options: Mapping[str, Any] | None = None):
        super().__init__(config, priority=priority, options=options)
        self._entries: dict[str, dt.date] = {}
        self._last_review: dict[str, dt.date] = {}

    def entry(self, asset: str) -> dt.date | None:
        """The entry date of the current position in `asset`, or None when not held."""
        return self._entries.get(asset)

    def days_held(self, asset: str, day: dt.date) -> int | None:
        """Calendar days since entry, or None when not held."""
        entered = self._entries.get(asset)
        return None if entered is None else (day - entered).days

    def start(self, day: dt.date, holdings: Mapping[str, StartingHolding]) -> list[Message]:
        """Take the entry dates of the starting holdings."""
        for asset in sorted(holdings):
            self._entries[asset] = holdings[asset].entered
        return []

    def observe(self, message: Message, day: dt.date) -> None:
        """A buy of an asset not held sets its entry date; a sell to zero forgets it."""
        if not isinstance(message, TradeFilled):
            return
        if message.side == "buy" and message.asset not in self._entries:
            self._entries[message.asset] = day
        elif message.closes_position:
            self._entries.pop(message.asset, None)
            self._last_review.pop(message.asset, None)

    def housekeep(self, ctx: DayContext) -> list[Message]:
        """Issue a holding_review notice for each holding whose review period has run out."""
        for asset in sorted(self._entries):
            if asset not in ctx.holdings:
                del self._entries[asset]
                self._last_review.pop(asset, None)
        out: list[Message] = []
        for asset in sorted(ctx.holdings):
            if asset not in self._entries:
                self._entries[asset] = ctx.holdings[asset].entered or ctx.date
            notice = self._check_forced_review(asset, ctx)
            if notice is not None:
                out.append(notice)
        return out

    def _check_forced_review(self, asset: str, ctx: DayContext) -> NoticeIssued | None:
        """holding_period.forced_review: a holding_review notice once the days since entry,
        or since the last review, reach `position_holding_period_max`."""
        entered = self._entries[asset]
        anchor = self._last_review.get(asset, entered)
        if (ctx.date - anchor).days < int(self.config.position_holding_period_max):
            return None
        self._last_review[asset] = ctx.date
        required = float(self.config.min_score_new_position)
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
        entered = self._entries.get(proposal.asset)
        if entered is None and ctx.position is not None and ctx.position.weight > EPS:
            entered = ctx.position.entered
        if entered is None:
            return self.verdict(proposal, ABSTAIN, f"{proposal.asset} is not held")
        return self._check_minimum(proposal, (ctx.date - entered).days)

    def _check_minimum(self, proposal: ProposeTrade, held: int) -> ProposalReviewed:
        """holding_period.minimum: a close, reduce or increase of a position held fewer than
        `position_holding_period_min` days is blocked."""
        minimum = int(self.config.position_holding_period_min)
        if held < minimum and proposal.action in GUARDED:
            return self.verdict(
                proposal, BLOCK, f"held {held} of {minimum} minimum days", rule=MINIMUM.id
            )
        return self.verdict(
            proposal, APPROVE, f"held {held} days (minimum {minimum})", rule=MINIMUM.id
        )

    def status(self, asset: str, day: dt.date) -> Mapping[str, Any]:
        """{"days_held": n} for a held asset."""
        n = self.days_held(asset, day)
        return {} if n is None else {"days_held": n}
