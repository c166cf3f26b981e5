"""A tiny built-in-style protection for the registry test: it blocks every open.

Written the way a built-in is (`domain/protections/*.py`): the class, its rule and the
guard that applies it. Adding it to a run takes one registry row
(tests/integration/test_protection_registry.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.messages import APPROVE, BLOCK, OPEN, ProposalReviewed, ProposeTrade
from domain.protections.base import PositionView, Protection, ReviewContext
from domain.rules import Rule

NO_OPENS = Rule(
    "no_opens.block",
    ("force_bucket_distribution",),
    "While switched on, no new position is opened",
    "6. Protection managers",
)


class NoOpensProtection(Protection):
    """Blocks every open; approves everything else."""

    name = "no_opens"
    rules = (NO_OPENS,)

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Block an open, approve anything else."""
        return self._check_no_opens(proposal)

    def _check_no_opens(self, proposal: ProposeTrade) -> ProposalReviewed:
        """no_opens.block: an open is blocked."""
        if proposal.action == OPEN:
            return self.verdict(proposal, BLOCK, "no new positions", rule=NO_OPENS.id)
        return self.verdict(proposal, APPROVE, f"{proposal.action} allowed", rule=NO_OPENS.id)

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"watched": True} for every holding."""
        return {"watched": True}
