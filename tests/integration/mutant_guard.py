"""A custom protection that declares its own mutant (`mutants`, as it declares `rules`),
for tests/integration/test_mutate.py."""

from __future__ import annotations

from domain.messages import ABSTAIN, ProposalReviewed, ProposeTrade
from domain.protections.base import ReviewContext
from domain.protections.mutants import Mutant
from examples.liquidity_guard import LiquidityGuard


class LiquidityIgnored(LiquidityGuard):
    """The illiquid cap ignored: every proposal abstained on."""

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        return self.verdict(proposal, ABSTAIN, "cap ignored")


class GuardWithMutant(LiquidityGuard):
    """The worked liquidity guard, with one mutant of its own."""

    mutants = (
        Mutant("liquidity.cap/ignored", "liquidity.cap", "the cap ignored", cls=LiquidityIgnored),
    )
