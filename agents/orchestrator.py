"""The orchestrator: asks every protection to review each proposal, resolves the verdicts
by the priority table, records one decision per proposal, and asks the portfolio manager
to re-plan when blocks freed slots or weight."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.base import BulwarkAgent
from agents.protection import notice
from domain.messages import ENTRIES, ProposalReviewed, ProposeTrade, RequestReplan, RequestReview
from domain.resolution import RegimeOverrideLedger, override_context, resolve
from sim.bus import Envelope

if TYPE_CHECKING:
    from sim.model import BulwarkModel


class OrchestratorAgent(BulwarkAgent):
    name = "orchestrator"

    def __init__(self, model: BulwarkModel) -> None:
        super().__init__(model)
        self.ledger = RegimeOverrideLedger()
        self._pending: list[Envelope] = []
        self._locked: dict[str, float] = {}
        self._blocked_entries: set[str] = set()
        self.replan_requested = False

    def begin_step(self) -> None:
        self._locked.clear()
        self._blocked_entries.clear()
        self.replan_requested = False

    def request_reviews(self) -> None:
        """Send one review request per new proposal to every protection."""
        self._pending = self.inbox("proposal")
        for env in self._pending:
            proposal = env.message
            self.publish(
                RequestReview(proposal_id=proposal.proposal_id, asset=proposal.asset),
                in_reply_to=env.id,
            )

    def resolve(self) -> None:
        """Decide every pending proposal; ask for a re-plan when something was held back."""
        verdicts: dict[str, list[ProposalReviewed]] = {}
        for env in self.inbox("verdict"):
            verdicts.setdefault(env.message.proposal_id, []).append(env.message)
        config = self.model.config
        freed_slots = 0
        freed_weight = 0.0
        held_back = False
        for env in self._pending:
            proposal: ProposeTrade = env.message
            override = override_context(
                self.model.regime, proposal.asset, self.model.date, self.ledger, config
            )
            result = resolve(proposal, verdicts.get(proposal.proposal_id, []), override)
            if result.used:
                self.ledger.record(proposal.asset, self.model.date)
                self.publish(
                    notice(
                        "regime_override_granted",
                        proposal.asset,
                        proposal_id=proposal.proposal_id,
                        severity=self.model.regime.severity,
                        regime=self.model.regime.regime,
                        lifted=list(result.lifted),
                    )
                )
            decision = result.decision
            self.publish(decision, in_reply_to=env.id)
            if proposal.origin != "portfolio_manager":
                self._locked[proposal.asset] = decision.final_weight
            if abs(decision.final_weight - proposal.to_weight) > 1e-12:
                held_back = True
                self._locked[proposal.asset] = decision.final_weight
                if proposal.action in ENTRIES:
                    freed_weight += max(proposal.to_weight - decision.final_weight, 0.0)
                    if proposal.action == "open" and decision.final_weight <= 1e-12:
                        freed_slots += 1
                        self._blocked_entries.add(proposal.asset)
        self._pending = []
        self.replan_requested = False
        if held_back and self.model.bus.round < config.max_negotiation_rounds:
            self.replan_requested = True
            self.publish(
                RequestReplan(
                    round=self.model.bus.round + 1,
                    locked=dict(sorted(self._locked.items())),
                    freed_slots=freed_slots,
                    freed_weight=freed_weight,
                    blocked=tuple(sorted(self._blocked_entries)),
                ),
                to="portfolio_manager",
            )
