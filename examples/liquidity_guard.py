"""A worked example of a user-written protection (see docs/protections.md, "Custom").

LiquidityGuard blocks opening or increasing a position beyond `max_weight` in any asset
listed in its `illiquid` option, and caps such trades by amending them down to the limit.
Scenario usage:

    protections:
      custom:
        - {name: liquidity, class: "examples.liquidity_guard:LiquidityGuard", priority: 6,
           options: {illiquid: [TSLA], max_weight: 0.05}}
"""

from __future__ import annotations

from domain.messages import ABSTAIN, AMEND, APPROVE, BLOCK, ENTRIES, ProposalReviewed, ProposeTrade
from domain.protections.base import Protection, ReviewContext


class LiquidityGuard(Protection):
    """Caps entries into illiquid assets at `max_weight` (amend), blocking when already there."""

    name = "liquidity"

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        illiquid = set(self.options.get("illiquid", ()))
        limit = float(self.options.get("max_weight", 0.05))
        if proposal.asset not in illiquid:
            return self.verdict(proposal, ABSTAIN, f"{proposal.asset} is not on the illiquid list")
        if proposal.action not in ENTRIES or proposal.to_weight <= limit:
            return self.verdict(proposal, APPROVE, f"within the {limit:.0%} illiquid limit")
        if proposal.from_weight >= limit:
            return self.verdict(
                proposal, BLOCK, f"{proposal.asset} already at the {limit:.0%} illiquid limit"
            )
        return self.verdict(
            proposal, AMEND, f"{proposal.asset} capped at the {limit:.0%} illiquid limit", limit
        )
