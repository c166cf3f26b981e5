"""Protection agents: each wraps one domain protection and speaks for it on the bus."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.base import BulwarkAgent
from agents.view import WorldView
from domain.envelope import Envelope
from domain.messages import (
    InterventionApplied,
    Message,
    NoticeIssued,
    ProposeTrade,
    RegimeUpdated,
    RequestCoreDesignation,
    ScoresPublished,
)
from domain.protections.base import DayContext, PositionView, Protection, ReviewContext


class ProtectionAgent(BulwarkAgent):
    """Feeds its protection every message, runs its housekeeping and its reviews.

    The regime and the day's scores in the protection's contexts are the last
    RegimeUpdated and ScoresPublished messages the agent saw on the bus.
    """

    def __init__(self, model: WorldView, protection: Protection) -> None:
        self.protection = protection
        super().__init__(model, name=protection.name)
        self._proposals: dict[str, ProposeTrade] = {}
        self._regime: RegimeUpdated | None = None
        self._scores: Mapping[str, float] = {}
        model.bus.observe(self._observe)

    @property
    def priority(self) -> int:
        return self.protection.priority

    def _observe(self, env: Envelope) -> None:
        message = env.message
        if isinstance(message, ProposeTrade):
            self._proposals[message.proposal_id] = message
        elif isinstance(message, RegimeUpdated):
            self._regime = message
        elif isinstance(message, ScoresPublished):
            self._scores = message.scores
        self.protection.observe(message, env.date)

    def start(self) -> None:
        """Learn the starting book (the first day, before anything else)."""
        self._emit(self.protection.start(self.model.date, self.model.starting_holdings))

    def housekeep(self) -> None:
        """Daily upkeep: expiries, decay, checks; publish what the protection returns."""
        self.handle_requests()
        ctx = DayContext(
            step=self.model.steps_done,
            date=self.model.date,
            regime=self._regime,
            scores=self._scores,
            holdings=self.model.positions_view(),
            bucket_of=self.model.market.bucket_of,
            prices=self.model.market,
        )
        self._emit(self.protection.housekeep(ctx))

    def handle_requests(self) -> None:
        """Requests addressed to this protection (only core_asset takes any by default)."""

    def review_pending(self) -> None:
        """Answer every review request in the inbox with a verdict."""
        for request in self.inbox("review_request"):
            proposal = self._proposals.pop(request.message.proposal_ref)
            ctx = ReviewContext(
                step=self.model.steps_done,
                date=self.model.date,
                round=self.model.round,
                regime=self._regime,
                position=self.model.positions_view().get(proposal.asset),
                bucket_of=self.model.market.bucket_of,
            )
            verdict = self.protection.review(proposal, ctx)
            self.publish(verdict, to="orchestrator", in_reply_to=request.id)
            self._emit(self.protection.after_review(verdict, proposal, ctx))

    def status(self, asset: str, position: PositionView | None) -> dict[str, Any]:
        """The protection's flags for `asset`, held as `position` after the day's trades."""
        return dict(self.protection.status(asset, self.model.date, position))

    def _emit(self, messages: list[Message]) -> None:
        for message in messages:
            self.publish(message)


class CoreAssetAgent(ProtectionAgent):
    """The core_asset protection also takes designation requests and manual controls."""

    def handle_requests(self) -> None:
        core = self.protection
        day = self.model.date
        requests = self.inbox("core_request") + self.inbox("intervention")
        for env in sorted(requests, key=lambda e: e.id):
            msg = env.message
            if isinstance(msg, RequestCoreDesignation):
                out = core.designate(
                    msg.asset,
                    day,
                    reason=msg.reason,
                    score=msg.score,
                    bucket=self.model.market.bucket_of.get(msg.asset, "Unknown"),
                )
            elif isinstance(msg, InterventionApplied) and msg.action == "extend_core":
                out = core.extend(
                    msg.asset, day, days=int(msg.details["days"]), reason=msg.details["reason"]
                )
            elif isinstance(msg, InterventionApplied) and msg.action == "revoke_core":
                out = core.revoke(msg.asset, day, reason=msg.details["reason"])
            else:
                continue
            for message in out:
                self.publish(message, in_reply_to=env.id)


def notice(event: str, asset: str | None = None, **details: Any) -> NoticeIssued:
    """Shorthand for a notice message."""
    return NoticeIssued(event=event, asset=asset, details=details)
