"""The portfolio manager: scores assets, plans the book, proposes trades, re-plans."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents.base import BulwarkAgent
from domain.construction import PlanInputs, diff_trades, plan_targets, rebalance_due
from domain.messages import (
    OPEN,
    InterventionApplied,
    ProposeTrade,
    RequestCoreDesignation,
    ScoresPublished,
)
from domain.scoring import apply_overrides, score_assets, window_needed

if TYPE_CHECKING:
    from sim.model import BulwarkModel


class PortfolioManagerAgent(BulwarkAgent):
    """Proposes the rebalance on rebalance days and re-plans around blocked trades."""

    name = "portfolio_manager"

    def __init__(self, model: BulwarkModel) -> None:
        super().__init__(model)
        market = model.market
        self._fundamentals = np.array(
            [
                np.nan
                if model.scenario.assets.get(t) is None
                or model.scenario.assets[t].fundamental is None
                else model.scenario.assets[t].fundamental
                for t in market.tickers
            ],
            dtype=float,
        )
        self._column = {t: j for j, t in enumerate(market.tickers)}
        self.board = None
        self._planned = False
        self._opened_this_step = 0
        self._previous_day = None
        self._decided: dict[str, float] = {}

    # --- stage: interventions -------------------------------------------------------
    def apply_interventions(self) -> None:
        """Carry out the scenario's manual controls dated today."""
        for iv in self.model.interventions_today():
            details = {"reason": iv.reason}
            if iv.action == "set":
                details.update(param=iv.param, value=iv.value)
                self.model.set_param(iv.param, iv.value)
            if iv.days is not None:
                details["days"] = iv.days
            core_on = self.model.has_agent("core_asset")
            to = "core_asset" if core_on and iv.action in ("extend_core", "revoke_core") else "*"
            self.publish(
                InterventionApplied(action=iv.action, asset=iv.asset, details=details), to=to
            )
            if iv.action == "mark_core" and core_on:
                score = self._score_of(iv.asset)
                self.publish(
                    RequestCoreDesignation(asset=iv.asset, score=score, reason=iv.reason),
                    to="core_asset",
                )

    # --- stage: scoring -------------------------------------------------------------
    def publish_scores(self) -> None:
        """Score every asset from prices up to today; publish the holdings' scores."""
        model = self.model
        cfg = model.config
        window = model.market.window(model.t, window_needed())
        board = score_assets(
            window,
            fundamentals=self._fundamentals,
            technical_weight=cfg.technical_weight,
            fundamental_weight=cfg.fundamental_weight,
        )
        self.board = apply_overrides(
            board, model.date, model.market.tickers, model.scenario.signals
        )
        held = sorted(a for a, q in model.broker.quantities.items() if q > 0)
        scores = {a: round(float(self.board.score[self._column[a]]), 6) for a in held}
        model.scores_today = scores
        self.publish(ScoresPublished(scores=scores))

    def _score_of(self, asset: str | None) -> float | None:
        if self.board is None or asset not in self._column:
            return None
        return round(float(self.board.score[self._column[asset]]), 6)

    # --- stage: proposals and re-plans -----------------------------------------------
    def propose(self, round_: int) -> None:
        """Round 0: plan the rebalance (on rebalance days). Later rounds: re-plan on request."""
        if round_ == 0:
            self._planned = False
            self._opened_this_step = 0
            self._decided = {}
            day, previous = self.model.date, self._previous_day
            self._previous_day = day
            locked = {
                e.message.asset: e.message.to_weight
                for e in self.inbox("proposal")
                if e.sender != self.name
            }
            due = rebalance_due(self.model.config.rebalance_frequency, day, previous)
            if not (due or self.model.regime.changed):
                return
            self._planned = True
            self._plan(locked=locked, excluded=frozenset(), round_=round_)
            return
        for env in self.inbox("decision"):
            decision = env.message
            self._decided[decision.asset] = decision.final_weight
            if decision.action == OPEN and decision.final_weight > 0:
                self._opened_this_step += 1
        requests = self.inbox("replan_request")
        if not (self._planned and requests):
            return
        request = requests[-1].message
        self._plan(
            locked=dict(request.locked),
            excluded=frozenset(request.blocked),
            round_=round_,
            reply_to=requests[-1].id,
        )

    def _reason(self, trade, score: float, trending: float, review_due: frozenset[str]) -> str:
        """Why the plan wants this trade, in the terms of the rule that drove it."""
        cfg = self.model.config
        if trade.action == "open":
            return (
                f"new position: score {score:.3f} >= min_score_new_position "
                f"{cfg.min_score_new_position}, trending {trending:.2f}"
            )
        if trade.action == "close":
            if trade.asset in review_due and score < cfg.min_score_new_position:
                return (
                    f"maximum holding review: score {score:.3f} below min_score_new_position "
                    f"{cfg.min_score_new_position}"
                )
            if score < cfg.min_score_threshold:
                return f"score {score:.3f} below min_score_threshold {cfg.min_score_threshold}"
            return f"not selected: outranked under the position limits (score {score:.3f})"
        return f"re-sized to target {trade.to_weight:.4f} (score {score:.3f})"

    def _plan(
        self,
        *,
        locked: dict[str, float],
        excluded: frozenset[str],
        round_: int,
        reply_to: int | None = None,
    ) -> None:
        model = self.model
        cfg = model.config
        weights = model.current_weights()
        review_due = frozenset(
            e.message.asset for e in self.inbox("notice") if e.message.event == "holding_review"
        )
        board = self.board
        max_total = cfg.max_total_positions
        new_budget = cfg.max_new_positions
        if model.regime.changed:
            new_budget = int(new_budget * cfg.regime_change_aggression)
            max_total = int(max_total * 1.2)
        inputs = PlanInputs(
            tickers=model.market.tickers,
            score=board.score,
            trending=board.trending,
            valid=board.valid & ~np.isnan(model.market.closes[model.t]),
            weights=weights,
            config=cfg,
            locked=locked,
            excluded=excluded,
            new_budget=max(new_budget - self._opened_this_step, 0),
            review_due=review_due,
            max_total=max_total,
        )
        targets = plan_targets(inputs)
        trades = diff_trades(
            weights,
            targets,
            min_trade_weight=cfg.min_trade_weight,
            skip=tuple(locked),
            baseline=self._decided if round_ > 0 else None,
        )
        for n, trade in enumerate(trades):
            j = self._column[trade.asset]
            components = board.for_asset(j)
            components["bucket"] = model.market.bucket_of.get(trade.asset, "Unknown")
            reason = self._reason(trade, components["score"], components["trending"], review_due)
            self.publish(
                ProposeTrade(
                    proposal_id=f"{model.steps_done}:{round_}:pm:{n}",
                    asset=trade.asset,
                    action=trade.action,
                    from_weight=trade.from_weight,
                    to_weight=trade.to_weight,
                    score=components["score"],
                    reason=reason,
                    origin=self.name,
                    components=components,
                ),
                in_reply_to=reply_to,
            )
