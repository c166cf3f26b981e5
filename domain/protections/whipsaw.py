"""Whipsaw protection: no rapid open/close cycling of the same asset.

A completed cycle is an open followed by a close of the same asset (from fills). It
counts while its close is less than `whipsaw_protection_days` calendar days old. An
open is blocked when the asset has `whipsaw_max_cycles` or more counted cycles; a
close is blocked when the position is younger than `whipsaw_min_duration_hours`
(age in hours = calendar days since the open x 24).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from domain.config import Config
from domain.messages import (
    ABSTAIN,
    APPROVE,
    BLOCK,
    CLOSE,
    OPEN,
    Message,
    NoticeIssued,
    ProposalReviewed,
    ProposeTrade,
    TradeFilled,
)
from domain.protections.base import PositionView, Protection, ReviewContext, StartingHolding
from domain.rules import Rule

EPS = 1e-12

_SECTION = "6. Protection managers / Whipsaw"
WINDOW = Rule(
    "whipsaw.window",
    ("whipsaw_max_cycles", "whipsaw_protection_days"),
    "An open is blocked when the asset completed >= whipsaw_max_cycles open/close cycles"
    " in the last whipsaw_protection_days days",
    _SECTION,
)
MIN_DURATION = Rule(
    "whipsaw.min_duration",
    ("whipsaw_min_duration_hours",),
    "A close is blocked while the position is younger than whipsaw_min_duration_hours",
    _SECTION,
)


@attrs.frozen
class Cycle:
    """One completed open -> close of an asset."""

    opened: dt.date
    closed: dt.date


class WhipsawProtection(Protection):
    """Counts open/close cycles per asset and blocks the trades that would whipsaw."""

    name = "whipsaw"
    rules = (WINDOW, MIN_DURATION)
    observes = frozenset({TradeFilled.KIND})

    def __init__(self, config: Config, *, priority: int, options: Mapping[str, Any] | None = None):
        super().__init__(config, priority=priority, options=options)
        self._open_since: dict[str, dt.date] = {}
        self._cycles: dict[str, list[Cycle]] = {}

    # --- state ---------------------------------------------------------------------

    def start(self, day: dt.date, holdings: Mapping[str, StartingHolding]) -> list[Message]:
        """Each starting holding counts as opened on its entry date."""
        for asset in sorted(holdings):
            self._open_since[asset] = holdings[asset].entered
        return []

    def observe(self, message: Message, day: dt.date) -> None:
        """A buy of an asset not held is an open; a sell to zero weight closes a cycle."""
        if not isinstance(message, TradeFilled):
            return
        asset = message.asset
        if message.side == "buy" and asset not in self._open_since:
            self._open_since[asset] = day
        elif message.closes_position and asset in self._open_since:
            opened = self._open_since.pop(asset)
            self._cycles.setdefault(asset, []).append(Cycle(opened, day))

    # --- queries -------------------------------------------------------------------

    def opened(self, asset: str) -> dt.date | None:
        """When the current position in `asset` was opened, or None when not held."""
        return self._open_since.get(asset)

    def recent_closes(self, asset: str, day: dt.date) -> list[dt.date]:
        """Close dates of the cycles of `asset` inside the window on `day`, oldest first."""
        cycles = self._cycles.get(asset)
        if not cycles:
            return []
        window = self.config.whipsaw_protection_days
        return sorted(c.closed for c in cycles if 0 <= (day - c.closed).days < window)

    def recent_cycles(self, asset: str, day: dt.date) -> int:
        """Completed cycles of `asset` whose close is within the window."""
        return len(self.recent_closes(asset, day))

    def days_until_reset(self, asset: str, day: dt.date) -> int | None:
        """Days until enough cycles leave the window for an open to pass (0 when it passes now;
        None when `whipsaw_max_cycles` < 1, since then no open can ever pass)."""
        closes = self.recent_closes(asset, day)
        limit = self.config.whipsaw_max_cycles
        if limit < 1:
            return None
        must_leave = len(closes) - limit + 1
        if must_leave <= 0:
            return 0
        window = self.config.whipsaw_protection_days
        reset = closes[must_leave - 1] + dt.timedelta(days=window)
        return (reset - day).days

    def report(self, asset: str, day: dt.date) -> dict[str, Any]:
        """recent_cycles, can_trade, protection_active and days_until_reset of `asset`."""
        n = self.recent_cycles(asset, day)
        can_trade = n < self.config.whipsaw_max_cycles
        return {
            "recent_cycles": n,
            "can_trade": can_trade,
            "protection_active": not can_trade,
            "days_until_reset": self.days_until_reset(asset, day),
        }

    # --- review --------------------------------------------------------------------

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Block an open at the cycle limit and a close of a too young position."""
        if proposal.action == OPEN:
            return self._check_window(proposal, ctx.date)
        if proposal.action == CLOSE:
            opened = self._open_since.get(proposal.asset)
            if opened is None and ctx.position is not None:
                opened = ctx.position.entered
            if opened is None:
                return self.verdict(proposal, ABSTAIN, f"open date of {proposal.asset} unknown")
            return self._check_min_duration(proposal, (ctx.date - opened).days * 24)
        return self.verdict(proposal, ABSTAIN, f"action {proposal.action} not governed")

    def _check_window(self, proposal: ProposeTrade, day: dt.date) -> ProposalReviewed:
        """whipsaw.window: an open of an asset with `whipsaw_max_cycles` or more cycles in
        the window is blocked."""
        asset = proposal.asset
        n = self.recent_cycles(asset, day)
        limit = self.config.whipsaw_max_cycles
        window = self.config.whipsaw_protection_days
        if n < limit:
            return self.verdict(
                proposal,
                APPROVE,
                f"{n} cycle(s) in the last {window} days (limit {limit})",
                rule=WINDOW.id,
            )
        wait = self.days_until_reset(asset, day)
        when = "never (limit below 1)" if wait is None else f"in {wait} days"
        return self.verdict(
            proposal,
            BLOCK,
            f"whipsaw: {asset} completed {n} open/close cycle(s) in the last {window}"
            f" days (limit {limit}); opens allowed again {when}",
            rule=WINDOW.id,
        )

    def _check_min_duration(self, proposal: ProposeTrade, hours: int) -> ProposalReviewed:
        """whipsaw.min_duration: a close of a position younger than
        `whipsaw_min_duration_hours` is blocked."""
        minimum = self.config.whipsaw_min_duration_hours
        if hours < minimum:
            return self.verdict(
                proposal,
                BLOCK,
                f"whipsaw: {proposal.asset} position is {hours} hours old, minimum"
                f" {minimum:g} hours",
                rule=MIN_DURATION.id,
            )
        return self.verdict(proposal, APPROVE, f"position {hours} hours old", rule=MIN_DURATION.id)

    def after_review(
        self, verdict: ProposalReviewed, proposal: ProposeTrade, ctx: ReviewContext
    ) -> list[Message]:
        """A whipsaw_blocked notice for each block."""
        if verdict.stance != BLOCK:
            return []
        return [
            NoticeIssued(
                event="whipsaw_blocked",
                asset=proposal.asset,
                details={
                    "proposal_id": proposal.proposal_id,
                    "action": proposal.action,
                    "reason": verdict.reason,
                    **self.report(proposal.asset, ctx.date),
                },
                rule=verdict.rule,
            )
        ]

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"whipsaw_cycles": n} when `asset` has cycles in the window."""
        n = self.recent_cycles(asset, day)
        return {"whipsaw_cycles": n} if n > 0 else {}
