"""The portfolio manager: scores assets, plans the book, proposes trades, re-plans.

The agent stays thin: it gathers the planner's inputs (scores, the book's weights and
entry dates, the regime from the day's RegimeUpdated, the drawdown, a window of closes),
calls
`domain.construction.plan_targets`, and publishes one proposal per trade with the plan's
reason and numbers. A smart bucket override asks the core_asset agent for a designation
the next morning, once the position is on the book (docs/construction.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np

from agents.base import BulwarkAgent
from agents.protection import notice
from agents.view import WorldView
from domain.construction import (
    Plan,
    PlanInputs,
    Trade,
    diff_trades,
    plan_targets,
    rebalance_due,
    window_rows,
)
from domain.construction.proposals import core_requests, trade_reason
from domain.construction.status import StatusBoard, selection_changes
from domain.execution import CostRates, side_of
from domain.messages import (
    AMENDED,
    APPROVED,
    OPEN,
    InterventionApplied,
    NoticeIssued,
    ProposeTrade,
    RegimeUpdated,
    RequestCoreDesignation,
    ScoresPublished,
)
from domain.resolution import PLANNER
from domain.scenario import AssetSpec, Signals
from domain.scoring import apply_overrides, score_as_of


class PortfolioManagerAgent(BulwarkAgent):
    """Proposes the rebalance on rebalance days and re-plans around blocked trades.

    Args:
        model: the world.
        assets: the scenario's per-asset attributes (fundamental scores).
        signals: the scenario's scripted score overrides.
    """

    name = PLANNER

    def __init__(self, model: WorldView, assets: Mapping[str, AssetSpec], signals: Signals) -> None:
        super().__init__(model)
        market = model.market
        self._fundamentals = np.array(
            [
                np.nan
                if assets.get(t) is None or assets[t].fundamental is None
                else assets[t].fundamental
                for t in market.tickers
            ],
            dtype=float,
        )
        self._signals = signals
        self._regime: RegimeUpdated | None = None
        self._column = {t: j for j, t in enumerate(market.tickers)}
        self._status = StatusBoard.empty(len(market.tickers))
        self.board = None
        self._planned = False
        self._opened_this_step = 0
        self._previous_day = None
        self._decided: dict[str, float] = {}
        # asset -> (end-of-day target, side) of each decision of today that trades
        # (None: blocked); a later decision of the same asset replaces an earlier one.
        self._trading: dict[str, tuple[float, str] | None] = {}
        self._review_due: set[str] = set()
        self._core: frozenset[str] = frozenset()
        self._override_requests: dict[str, RequestCoreDesignation] = {}
        self._requested: set[str] = set()

    # --- stage: interventions -------------------------------------------------------
    def apply_interventions(self) -> None:
        """Carry out the scenario's manual controls dated today (or on the weekend or
        holiday before today: `details.rolled_from` then records the date written). A
        `set` takes effect as its InterventionApplied message is published."""
        for iv in self.model.interventions_today():
            details = {"reason": iv.reason}
            if iv.date != self.model.date:
                details["rolled_from"] = iv.date.isoformat()
            if iv.action == "set":
                details.update(param=iv.param, value=iv.value)
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
        self._request_core_for_overrides()

    def _request_core_for_overrides(self) -> None:
        """Ask for core designation of yesterday's smart overrides that are now held.

        The core_asset agent takes requests in its housekeeping, which comes before the
        day's plan; so an override planned on day t is requested on day t+1, before
        housekeeping, and only if its position is on the book (an override whose open was
        blocked is not designated).
        """
        pending, self._override_requests = self._override_requests, {}
        if not self.model.has_agent("core_asset"):
            return
        held = self.model.positions_view()
        for asset in sorted(pending):
            if asset in held:
                self._requested.add(asset)
                self.publish(pending[asset], to="core_asset")

    # --- stage: scoring -------------------------------------------------------------
    def publish_scores(self) -> None:
        """Score every asset from prices up to today; publish the holdings' scores."""
        model = self.model
        cfg = model.config
        board = score_as_of(
            model.market.closes,
            model.t,
            fundamentals=self._fundamentals,
            technical_weight=cfg.technical_weight,
            fundamental_weight=cfg.fundamental_weight,
        )
        self.board = apply_overrides(board, model.date, model.market.tickers, self._signals)
        held = model.positions_view()
        scores = {a: round(float(self.board.score[self._column[a]]), 6) for a in held}
        self.publish(ScoresPublished(scores=scores))

    def _score_of(self, asset: str | None) -> float | None:
        if self.board is None or asset not in self._column:
            return None
        return round(float(self.board.score[self._column[asset]]), 6)

    # --- stage: proposals and re-plans -----------------------------------------------
    def propose(self, round_: int) -> None:
        """Round 0: plan the rebalance (on rebalance days). Later rounds: re-plan on request."""
        if round_ == 0:
            self._start_day()
        self._read_notices()
        if round_ == 0:
            self._plan_rebalance()
        else:
            self._read_decisions()
            self._replan(round_)

    def _start_day(self) -> None:
        """Forget yesterday's negotiation; read today's regime."""
        self._planned = False
        self._opened_this_step = 0
        self._decided = {}
        self._trading = {}
        self._review_due = set()
        self._regime = self.inbox("regime_update")[-1].message

    def _plan_rebalance(self) -> None:
        """On a rebalance day (or a regime change), plan around the protections' own trades."""
        day, previous = self.model.date, self._previous_day
        self._previous_day = day
        others = [e.message for e in self.inbox("proposal") if e.sender != self.name]
        self._trading = {p.asset: (p.to_weight, side_of(p.action)) for p in others}
        due = rebalance_due(self.model.config.rebalance_frequency, day, previous)
        if due or self._regime.changed:
            self._planned = True
            locked = {p.asset: p.to_weight for p in others}
            self._plan(locked=locked, excluded=frozenset(), round_=0)

    def _read_decisions(self) -> None:
        """The book as decided so far today, what trades, and how many opens went through."""
        for env in self.inbox("decision"):
            decision = env.message
            self._decided[decision.asset] = decision.final_weight
            self._trading[decision.asset] = (
                (decision.final_weight, side_of(decision.action))
                if decision.outcome in (APPROVED, AMENDED)
                else None
            )
            if decision.action == OPEN and decision.final_weight > 0:
                self._opened_this_step += 1

    def _replan(self, round_: int) -> None:
        """Plan again around what the orchestrator locked and blocked, when it asks."""
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

    def _read_notices(self) -> None:
        """Holding reviews due today, and the core assets as the core_asset agent last
        listed them (every core_* notice carries the list)."""
        for env in self.inbox("notice"):
            notice = env.message
            if notice.event == "holding_review":
                self._review_due.add(notice.asset)
            elif notice.event.startswith("core_") and "core_assets" in notice.details:
                self._core = frozenset(notice.details["core_assets"])

    def _plan(
        self,
        *,
        locked: dict[str, float],
        excluded: frozenset[str],
        round_: int,
        reply_to: int | None = None,
    ) -> None:
        """Plan, record the rebalance and the selection changes, propose the trades."""
        cfg = self.model.config
        weights = {a: p.weight for a, p in self.model.positions_view().items()}
        inputs = self._inputs(locked, excluded)
        plan = plan_targets(inputs)
        self._note_overrides(plan, round_)
        trades = diff_trades(
            weights,
            plan.targets,
            min_trade_weight=cfg.min_trade_weight,
            skip=tuple(locked),
            baseline=self._decided if round_ > 0 else None,
            cap=cfg.max_single_position_size,
            bucket_of=self.model.market.bucket_of if cfg.enable_bucket_diversification else None,
            bucket_limit=cfg.max_bucket_allocation,
            rates=CostRates.of(cfg.slippage_bps, cfg.commission),
            fixed={a: t for a, t in sorted(self._trading.items()) if t is not None},
            exempt=frozenset(plan.overrides),
        )
        if round_ == 0:
            self.publish(self._rebalance_notice(plan, len(trades)))
        changes, self._status = selection_changes(inputs, plan, self._status)
        for status in changes:
            details = attrs.asdict(status)
            del details["asset"]
            self.publish(notice("selection", status.asset, **details))
        for n, trade in enumerate(trades):
            self.publish(self._proposal(trade, plan, f"{round_}:pm:{n}"), in_reply_to=reply_to)

    def _inputs(self, locked: dict[str, float], excluded: frozenset[str]) -> PlanInputs:
        """The planner's inputs: the day's scores, the book as decided so far, the regime."""
        model = self.model
        cfg, market, board = model.config, model.market, self.board
        book = model.positions_view()
        weights = {a: p.weight for a, p in book.items()}
        # In a re-plan round the plan starts from the book as decided so far: an open
        # approved in an earlier round is a position to keep (or re-size), not a candidate.
        planned = {a: w for a, w in {**weights, **self._decided}.items() if w > 0}
        return PlanInputs(
            tickers=market.tickers,
            score=board.score,
            trending=board.trending,
            valid=board.valid & ~np.isnan(market.closes[model.t]),
            weights=planned,
            config=cfg,
            locked=locked,
            excluded=excluded,
            review_due=frozenset(self._review_due),
            buckets=tuple(market.bucket_of[t] for t in market.tickers),
            days_held={
                a: (model.date - p.entered).days for a, p in book.items() if p.entered is not None
            },
            favored_buckets=frozenset(self._regime.favored_buckets),
            regime_changed=self._regime.changed,
            opened=self._opened_this_step,
            closes=market.window(model.t, window_rows(cfg)),
            drawdown=model.drawdown(),
        )

    def _proposal(self, trade: Trade, plan: Plan, suffix: str) -> ProposeTrade:
        """One trade as a proposal, with the plan's reason and numbers."""
        market = self.model.market
        components = self.board.for_asset(self._column[trade.asset])
        components["bucket"] = market.bucket_of.get(trade.asset, "Unknown")
        components.update(plan.components(trade.asset))
        cap = self.model.config.max_single_position_size
        return ProposeTrade(
            proposal_id=f"{self.model.steps_done}:{suffix}",
            asset=trade.asset,
            action=trade.action,
            from_weight=trade.from_weight,
            to_weight=trade.to_weight,
            score=components["score"],
            reason=trade_reason(trade, plan, components["score"], cap),
            origin=self.name,
            components=components,
        )

    def _rebalance_notice(self, plan: Plan, n_trades: int) -> NoticeIssued:
        """The record that today is a rebalance day, and the limits the plan used."""
        cfg, regime = self.model.config, self._regime
        why = "regime changed" if regime.changed else f"{cfg.rebalance_frequency} rebalance day"
        return notice(
            "rebalance",
            None,
            reason=why,
            max_total=plan.limits.max_total,
            max_new=plan.limits.max_new,
            positions=len(plan.targets),
            trades=n_trades,
        )

    def _note_overrides(self, plan: Plan, round_: int) -> None:
        """Remember today's smart overrides that should become core requests tomorrow
        (`domain.construction.proposals.core_requests`); a run of consecutive rebalances
        with the same override asks once."""
        if round_ == 0:
            self._requested &= set(plan.overrides)
        self._override_requests.update(
            core_requests(
                plan,
                self.model.date,
                threshold=self.model.config.core_asset_override_threshold,
                core=self._core,
                requested=self._requested,
            )
        )
