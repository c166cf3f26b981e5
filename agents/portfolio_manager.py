"""The portfolio manager: scores assets, plans the book, proposes trades, re-plans.

The agent is an adapter: it reads its inbox into its `domain.construction.desk.Desk`,
shows the desk the world as a `Screen`, and publishes what the desk returns (the scores,
the rebalance notice, the selection changes, one proposal per trade, the core requests of
smart overrides) and the scenario's manual controls (`domain.interventions`).
docs/construction.md is the rule book.
"""

from __future__ import annotations

from collections.abc import Mapping

from agents.base import BulwarkAgent
from agents.view import WorldView
from domain.construction.desk import Desk, Outbox, Screen
from domain.interventions import intervention_messages
from domain.protections.registry import CORE_ASSET
from domain.resolution import PLANNER
from domain.scenario import AssetSpec, Signals
from domain.scoring import ScoreBoard
from domain.scoring_models import ScoringModel


class PortfolioManagerAgent(BulwarkAgent):
    """Proposes the rebalance on rebalance days and re-plans around blocked trades.

    Args:
        model: the world.
        assets: the scenario's per-asset attributes (fundamental scores).
        signals: the scenario's scripted score overrides.
        scoring: the scenario's scoring model (None: the default blend).
    """

    name = PLANNER

    def __init__(
        self,
        model: WorldView,
        assets: Mapping[str, AssetSpec],
        signals: Signals,
        scoring: ScoringModel | None = None,
    ) -> None:
        super().__init__(model)
        self.desk = Desk.open(model.market.tickers, assets, signals, scoring)

    @property
    def board(self) -> ScoreBoard | None:
        """Today's score board (None before the first scoring)."""
        return self.desk.board

    def apply_interventions(self) -> None:
        """Carry out the scenario's controls dated today (a `set` takes effect as its
        InterventionApplied is published), then ask for core designation of yesterday's
        smart overrides that are now held."""
        for iv in self.model.interventions_today():
            core_on = self.model.has_agent(CORE_ASSET)
            score = self.desk.score_of(iv.asset)
            for message, to in intervention_messages(
                iv, self.model.date, core_on=core_on, score=score
            ):
                self.publish(message, to=to)
        core_on = self.model.has_agent(CORE_ASSET)
        for request in self.desk.take_core_requests(self.model.positions_view(), core_on=core_on):
            self.publish(request, to=CORE_ASSET)

    def publish_scores(self) -> None:
        """Score every asset from prices up to today; publish the holdings' scores."""
        self.publish(self.desk.score(self._screen()))

    def propose(self, round_: int) -> None:
        """Round 0: plan the rebalance (on rebalance days). Later rounds: re-plan on request."""
        if round_ == 0:
            self.desk.start_day(self.inbox("regime_update")[-1].message)
        for env in self.inbox("notice"):
            self.desk.read_notice(env.message)
        if round_ == 0:
            others = [e.message for e in self.inbox("proposal") if e.sender != self.name]
            self._send(self.desk.plan_rebalance(self._screen(), others))
            return
        for env in self.inbox("decision"):
            self.desk.read_decision(env.message)
        requests = self.inbox("replan_request")
        if requests:
            outbox = self.desk.replan(self._screen(), requests[-1].message, round_)
            self._send(outbox, reply_to=requests[-1].id)

    def _screen(self) -> Screen:
        model = self.model
        return Screen(
            market=model.market,
            t=model.t,
            date=model.date,
            step=model.steps_done,
            config=model.config,
            book=model.positions_view(),
            drawdown=model.drawdown(),
            stages=model.registry.stages,
        )

    def _send(self, outbox: Outbox, reply_to: int | None = None) -> None:
        for notice in outbox.notices:
            self.publish(notice)
        for proposal in outbox.proposals:
            self.publish(proposal, in_reply_to=reply_to)
