"""Protection agents: each wraps one domain protection and speaks for it on the bus.

An agent whose protection is switched off (its registry switch) stays on the bus and keeps
feeding its protection every message, but takes no part (`domain.protections.switch`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from agents.base import BulwarkAgent
from agents.view import WorldView
from domain.buckets import UNKNOWN_BUCKET
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
from domain.protections.switch import SwitchGate
from domain.rules import NOTICE_RULES


def _kinds_fed(protection: Protection) -> frozenset[str] | None:
    """The message kinds `protection.observe` is called with: none when it keeps the default
    hook (which does nothing); the kinds in `observes` of the class that defines its
    `observe`, when that class declares them; every kind (None) otherwise, as for an
    `observe` set on the instance."""
    if "observe" in vars(protection):
        return None
    owner = next(cls for cls in type(protection).__mro__ if "observe" in vars(cls))
    if owner is Protection:
        return frozenset()
    return vars(owner).get("observes")


class ProtectionAgent(BulwarkAgent):
    """Feeds its protection every message, runs its housekeeping and its reviews.

    The regime and the day's scores in the protection's contexts are the last
    RegimeUpdated and ScoresPublished messages the agent saw on the bus.
    """

    def __init__(self, model: WorldView, protection: Protection) -> None:
        self.protection = protection
        self.gate = SwitchGate(protection)
        self._status_takes_position = _takes_position(protection)
        super().__init__(model, name=protection.name)
        self._proposals: dict[str, ProposeTrade] = {}
        self._regime: RegimeUpdated | None = None
        self._scores: Mapping[str, float] = {}
        bus = model.bus
        bus.observe(self._keep_proposal, frozenset({ProposeTrade.KIND}))
        bus.observe(self._keep_regime, frozenset({RegimeUpdated.KIND}))
        bus.observe(self._keep_scores, frozenset({ScoresPublished.KIND}))
        kinds = _kinds_fed(protection)
        if kinds is None or kinds:
            bus.observe(self._feed, kinds)

    @property
    def switched_on(self) -> bool:
        """Whether the protection takes part under the configuration in force now."""
        return self.protection.switched_on()

    @property
    def priority(self) -> int:
        return self.protection.priority

    # what the agent keeps from the bus, then what the protection sees (in that order)
    def _keep_proposal(self, env: Envelope) -> None:
        self._proposals[env.message.proposal_id] = env.message

    def _keep_regime(self, env: Envelope) -> None:
        self._regime = env.message

    def _keep_scores(self, env: Envelope) -> None:
        self._scores = env.message.scores

    def _feed(self, env: Envelope) -> None:
        self.protection.observe(env.message, env.date)

    def start(self) -> None:
        """Learn the starting book (the first day, before anything else), when switched on."""
        if self.gate.first_day():
            self._emit(self.protection.start(self.model.date, self.model.starting_holdings))

    def housekeep(self) -> None:
        """Daily upkeep: expiries, decay, checks; publish what the protection returns.
        Switched off: only what the switch change itself says (`SwitchGate.today`)."""
        self._emit(self.gate.today(self.model.date, self.model.positions_view))
        if not self.gate.on:
            return
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
        """Answer every review request in the inbox with a verdict (none when switched off)."""
        requests = self.inbox("review_request")
        if not requests:
            return
        if not self.gate.on:
            for request in requests:
                del self._proposals[request.message.proposal_id]
            return
        model, regime = self.model, self._regime
        step, date, round_ = model.steps_done, model.date, model.round
        positions, bucket_of = model.positions_view(), model.market.bucket_of
        for request in requests:
            proposal = self._proposals.pop(request.message.proposal_id)
            position = positions.get(proposal.asset)
            # positional, in field order (a context per request: the hot loop of a day)
            ctx = ReviewContext(step, date, round_, regime, position, bucket_of)
            verdict = self.protection.review(proposal, ctx)
            self.publish(verdict, to="orchestrator", in_reply_to=request.id)
            self._emit(self.protection.after_review(verdict, proposal, ctx))

    def flags(self, holdings: Mapping[str, PositionView]) -> dict[str, Mapping[str, Any]]:
        """The protection's flags (`Protection.status`) for each of `holdings`, the book
        after the day's trades, leaving out the empty ones (none when switched off)."""
        if not self.gate.on:
            return {}
        status, day = self.protection.status, self.model.date
        if not self._status_takes_position:  # a protection written for status(asset, day)
            found = {asset: status(asset, day) for asset in holdings}
        else:
            found = {asset: status(asset, day, p) for asset, p in holdings.items()}
        return {asset: flags for asset, flags in found.items() if flags}

    def _emit(self, messages: list[Message]) -> None:
        for message in messages:
            self.publish(message)


class CoreAssetAgent(ProtectionAgent):
    """The core_asset protection also takes designation requests and manual controls."""

    def handle_requests(self) -> None:
        core = self.protection
        day = self.model.date
        # interventions addressed to core_asset: one broadcast while it was off is not its
        requests = self.inbox("core_request") + [
            env for env in self.inbox("intervention") if env.recipient == self.name
        ]
        for env in sorted(requests, key=lambda e: e.id):
            msg = env.message
            if isinstance(msg, RequestCoreDesignation):
                out = core.designate(
                    msg.asset,
                    day,
                    reason=msg.reason,
                    score=msg.score,
                    bucket=self.model.market.bucket_of.get(msg.asset, UNKNOWN_BUCKET),
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


def _takes_position(protection: Protection) -> bool:
    """Whether `protection.status` takes the `position` argument (the hook gained it; one
    written for the two-argument `status(asset, day)` is still called that way)."""
    params = inspect.signature(protection.status).parameters.values()
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 or any(p.kind is p.VAR_POSITIONAL for p in params)


def notice(
    event: str, asset: str | None = None, *, rule: str | None = None, **details: Any
) -> NoticeIssued:
    """Shorthand for a notice message; `rule` defaults to the event's one rule
    (`domain.rules.NOTICE_RULES`)."""
    return NoticeIssued(
        event=event, asset=asset, details=details, rule=rule or NOTICE_RULES.get(event)
    )
