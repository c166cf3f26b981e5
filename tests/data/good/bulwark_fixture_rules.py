"""A custom protection used by tests/data/good/full.yaml (imported by the scenario loader)."""

from __future__ import annotations

from domain.messages import APPROVE, BLOCK, ProposalReviewed, ProposeTrade
from domain.protections.base import Protection, ReviewContext


class LiquidityGuard(Protection):
    """Blocks opens of assets listed in the `illiquid` option; approves everything else."""

    name = "liquidity"

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        if proposal.asset in self.options.get("illiquid", ()):
            return self.verdict(proposal, BLOCK, "asset is illiquid")
        return self.verdict(proposal, APPROVE, "liquid enough")


class NotAProtection:
    """A class that does not derive from Protection (the loader must refuse it)."""
