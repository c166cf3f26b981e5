"""The orchestrator: asks every protection to review each proposal, resolves the verdicts
by the priority table, records one decision per proposal, and asks the portfolio manager
to re-plan when decisions held something back (`domain.resolution.held_back`)."""

from __future__ import annotations

from agents.base import BulwarkAgent
from agents.protection import notice
from agents.view import WorldView
from domain.envelope import Envelope
from domain.messages import ProposalReviewed, RegimeUpdated, RequestReview, TradeDecided
from domain.resolution import (
    ORCHESTRATOR,
    PLANNER,
    HeldBack,
    OverrideContext,
    RegimeOverrideLedger,
    held_back,
    override_closed,
    override_context,
    resolve,
)


class OrchestratorAgent(BulwarkAgent):
    """Collects verdicts, decides each proposal, and keeps the regime override ledger."""

    name = ORCHESTRATOR

    def __init__(self, model: WorldView) -> None:
        super().__init__(model)
        self.ledger = RegimeOverrideLedger()
        self._pending: list[Envelope] = []
        self._regime: RegimeUpdated | None = None
        self._held = HeldBack()

    def begin_step(self) -> None:
        """Read today's regime; nothing is locked or blocked yet."""
        self._regime = self.inbox("regime_update")[-1].message
        self._held = HeldBack()

    def request_reviews(self) -> None:
        """Send one review request per new proposal to every protection."""
        self._pending = self.inbox("proposal")
        for env in self._pending:
            proposal = env.message
            self.publish(
                RequestReview(proposal.proposal_id, proposal.asset),
                in_reply_to=env.id,
            )

    def resolve(self) -> bool:
        """Decide every pending proposal; returns whether a re-plan was requested."""
        verdicts: dict[str, list[ProposalReviewed]] = {}
        for env in self.inbox("verdict"):
            verdicts.setdefault(env.message.proposal_id, []).append(env.message)
        model = self.model
        closed = override_closed(self._regime, model.config, model.registry)  # for every asset
        decided = [(env.message, self._decide(env, verdicts, closed)) for env in self._pending]
        self._pending = []
        self._held = held_back(decided, self._held)
        request = self.model.registry.stages.replan_request(
            self._held, self.model.round, self.model.config.max_negotiation_rounds
        )
        if request is not None:
            self.publish(request, to=PLANNER)
        return request is not None

    def _decide(
        self,
        env: Envelope,
        verdicts: dict[str, list[ProposalReviewed]],
        closed: OverrideContext | None,
    ) -> TradeDecided:
        """Resolve one proposal, spending a regime override when it changed the decision;
        `closed`: the round's override context when none is available to any asset."""
        proposal, regime, day = env.message, self._regime, self.model.date
        override = closed
        if override is None:
            override = override_context(
                regime, proposal.asset, day, self.ledger, self.model.config, self.model.registry
            )
        result = resolve(proposal, verdicts.get(proposal.proposal_id, []), override)
        if result.used:
            self.ledger.record(proposal.asset, day)
            self.publish(
                notice(
                    "regime_override_granted",
                    proposal.asset,
                    proposal_id=proposal.proposal_id,
                    severity=regime.severity,
                    regime=regime.regime,
                    lifted=list(result.lifted),
                )
            )
        self.publish(result.decision, in_reply_to=env.id)
        return result.decision
