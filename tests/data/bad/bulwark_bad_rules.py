"""Protection classes imported by the custom-protection scenarios in tests/data/bad/."""

from __future__ import annotations

from domain.messages import APPROVE, ProposalReviewed, ProposeTrade
from domain.protections.base import Protection, ReviewContext


class NotAProtection:
    """Does not derive from domain.protections.base.Protection."""


class Guard(Protection):
    """A valid protection, used where another key of the custom entry is the problem."""

    name = "guard"

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        return self.verdict(proposal, APPROVE, "fine")
