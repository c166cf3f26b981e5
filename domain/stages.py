"""The stage rules of a run as one object, so that a mutant can break one of them.

`Stages` holds one small method per step of a stage rule that a mutant may break
(`domain.stage_mutants`): scoring, the day's limits and ranking, the selection guards, the
bucket steps, sizing, the trade filters, execution and resolution. Each default method
delegates to the module function that states the rule; the domain calls the steps through
the `Stages` instance it is given (`PlanInputs.stages`, `Screen.stages`, the `stages`
argument of `domain.execution.trade_day`, `Registry.stages` for resolution), never the
module function directly. The run's instance is carried by the protection registry
(`Registry(rows, stages=...)`); `Mutant.apply` switches in a subclass overriding one method.
Nothing here holds state: a mutant may (one instance per run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import TYPE_CHECKING, Any

import numpy as np

from domain import execution as _execution
from domain import resolution as _resolution
from domain import scoring as _scoring
from domain.construction import buckets as _buckets
from domain.construction import inputs as _inputs
from domain.construction import proposals as _proposals
from domain.construction import selection as _selection
from domain.construction import sizing as _sizing
from domain.construction import trades as _trades
from domain.construction.inputs import Limits, PlanInputs
from domain.construction.selection import Reason
from domain.execution import Order
from domain.messages import TradeDecided

if TYPE_CHECKING:
    from domain.config import Config
    from domain.construction.plan import Plan
    from domain.construction.sizing import ResidualReport
    from domain.construction.trades import Trade
    from domain.messages import RequestCoreDesignation, RequestReplan
    from domain.resolution import HeldBack, RegimeOverrideLedger
    from domain.score_tables import ScoreTables
    from domain.scoring import ScoreBoard
    from domain.scoring_models import ScoringModel


class Stages:
    """The run's stage rules, one method per step a mutant may break (the rule in each
    docstring; see the module). Two are equal when of the same class.

    Attributes:
        stated_correlations: Whether `abs_correlations` is the stated rule (set for every
            subclass): only then may a day's re-plan rounds reuse its matrices
            (`domain.construction.selection`); a mutant of it, which may keep state, is
            asked every round.
        stated_correlation_filter: Whether `abs_correlations`, `correlation_drops` and
            `bucket_overrides` are all the stated rules (set for every subclass): only
            then may a plan whose `correlation_limit` is 1 or more skip the matrices,
            which cannot drop anything (`domain.construction.selection`).
    """

    stated_correlations: bool = True
    stated_correlation_filter: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.stated_correlations = cls.abs_correlations is Stages.abs_correlations
        cls.stated_correlation_filter = (
            cls.stated_correlations
            and cls.correlation_drops is Stages.correlation_drops
            and cls.bucket_overrides is Stages.bucket_overrides
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    # --- scoring, limits and ranking ------------------------------------------------------
    def score_as_of(
        self,
        closes: np.ndarray,
        t: int,
        *,
        fundamentals: np.ndarray,
        technical_weight: float,
        fundamental_weight: float,
        model: ScoringModel | None = None,
        tables: ScoreTables | None = None,
    ) -> ScoreBoard:
        """scoring.score: every asset scored on day `t` (`domain.scoring.score_as_of`, or
        the scenario's scoring `model` when it names one: `domain.scoring_models`).
        `tables` (the run's `domain.score_tables.ScoreTables`) only makes the default
        blend faster: the board is the same bits with or without them."""
        if model is not None:
            return model.score_as_of(closes, t)
        return _scoring.score_as_of(
            closes,
            t,
            fundamentals=fundamentals,
            technical_weight=technical_weight,
            fundamental_weight=fundamental_weight,
            tables=tables,
        )

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        """construction.dynamic_limits, high_volatility, concentration: the day's limits."""
        return _inputs.dynamic_limits(inp)

    def rank_scores(self, inp: PlanInputs) -> np.ndarray:
        """selection.score_decay: the ranking scores, holdings decayed by age."""
        return _inputs.rank_scores(inp)

    # --- selection ------------------------------------------------------------------------
    def check_review(self, inp: PlanInputs, j: int) -> Reason | None:
        """selection.review_threshold: a holding due its review needs the open threshold."""
        return _selection._check_review(inp, j)

    def check_keep_threshold(self, inp: PlanInputs, j: int) -> Reason | None:
        """selection.keep_threshold: a holding needs `min_score_threshold`."""
        return _selection._check_keep_threshold(inp, j)

    def check_trending_existing(self, inp: PlanInputs, j: int) -> Reason | None:
        """selection.trending_existing: a holding needs `trending_confidence_existing`."""
        return _selection._check_trending_existing(inp, j)

    def open_eligible(self, inp: PlanInputs) -> np.ndarray:
        """selection.open_threshold: the columns a new position may open in."""
        return _selection.open_eligible(inp)

    def portfolio_room(self, limits: Limits, n_locked: int, n_keep: int) -> int:
        """selection.max_new, selection.max_total: how many new candidates fit."""
        return _selection.portfolio_room(limits, n_locked, n_keep)

    # --- buckets ----------------------------------------------------------------------------
    def bucket_slots(
        self, present: Iterable[str], max_total: int, favored: Iterable[str], max_per_bucket: int
    ) -> dict[str, int]:
        """construction.bucket_slots: the slots of each bucket."""
        return _buckets.bucket_slots(present, max_total, favored, max_per_bucket)

    def abs_correlations(self, returns: np.ndarray, min_obs: int) -> np.ndarray:
        """construction.correlation: |correlation| between the columns of the returns."""
        return _buckets.abs_correlations(returns, min_obs)

    def correlation_drops(
        self, members: Sequence[int], droppable: Sequence[bool], corr: np.ndarray, limit: float
    ) -> dict[int, tuple[int, float]]:
        """construction.correlation: the bucket members dropped for correlation."""
        return _buckets.correlation_drops(members, droppable, corr, limit)

    def override_hopefuls(self, inp: PlanInputs, turned_away: Sequence[int]) -> list[int]:
        """construction.bucket_override: the turned-away assets reaching the threshold."""
        return _selection._override_hopefuls(inp, turned_away)

    def bucket_overrides(
        self,
        inp: PlanInputs,
        book: Any,
        hopefuls: list[int],
        checks: dict[str, Any],
        held: set[int],
        slots: dict[str, int],
    ) -> set[int]:
        """construction.bucket_override: the hopefuls admitted, at most max_bucket_overrides."""
        return _selection._override_stage(inp, book, hopefuls, checks, held, slots)

    def min_buckets(
        self,
        inp: PlanInputs,
        book: Any,
        keep: list[int],
        picked: list[int],
        left_out: list[int],
        locked_buckets: list[str],
        room: int,
    ) -> tuple[list[int], int]:
        """construction.min_buckets: the picks with each missing bucket's best added."""
        return _selection._min_buckets(inp, book, keep, picked, left_out, locked_buckets, room)

    def scale_buckets(
        self,
        weights: np.ndarray,
        member_buckets: Sequence[str],
        exempt: np.ndarray,
        locked_by_bucket: Mapping[str, float],
        cap: float,
    ) -> tuple[np.ndarray, dict[str, float]]:
        """construction.bucket_allocation: each bucket scaled down to `cap` of equity."""
        return _buckets.scale_buckets(weights, member_buckets, exempt, locked_by_bucket, cap)

    # --- sizing -----------------------------------------------------------------------------
    def raw_weights(self, score: np.ndarray, config: Config, target: float) -> np.ndarray:
        """sizing.raw_weights: relative sizes by `position_size_scaling`."""
        return _sizing.raw_weights(score, config, target)

    def volatility_factors(self, vols: np.ndarray) -> np.ndarray:
        """sizing.volatility: the inverse-volatility multipliers."""
        return _sizing.volatility_factors(vols)

    def cap_and_normalise(self, raw: np.ndarray, cap: float, target: float) -> np.ndarray:
        """sizing.cap: the two-stage cap and normalise, repeated."""
        return _sizing.cap_and_normalise(raw, cap, target)

    def check_no_room(self, inp: PlanInputs, frame: Any, active: list[int]) -> dict[int, Reason]:
        """sizing.no_room: every column dropped when locked positions leave no room."""
        return _sizing._check_no_room(inp, frame, active)

    def check_min_position(
        self, inp: PlanInputs, w: np.ndarray, active: list[int], rank: np.ndarray
    ) -> int | None:
        """sizing.min_position: the position to drop, or None."""
        return _sizing._check_min_position(inp, w, active, rank)

    def allocate_residual(
        self,
        weights: np.ndarray,
        scores: np.ndarray,
        tickers: Sequence[str],
        buckets: Sequence[str | None],
        room: Mapping[str, float],
        config: Config,
        residual: float,
    ) -> tuple[np.ndarray, ResidualReport]:
        """sizing.residual: the residual shared by `residual_strategy`."""
        return _sizing.allocate_residual(weights, scores, tickers, buckets, room, config, residual)

    def drawdown_factor(self, inp: PlanInputs) -> float:
        """sizing.drawdown: the factor on every planned weight."""
        return _sizing._check_drawdown(inp)

    def core_requests(
        self, plan: Plan, day: dt.date, threshold: float, core: Set[str], requested: Set[str]
    ) -> dict[str, RequestCoreDesignation]:
        """construction.override_core_request: the overrides that ask for core designation."""
        return _proposals.core_requests(
            plan, day, threshold=threshold, core=core, requested=requested
        )

    # --- trades -----------------------------------------------------------------------------
    def rebalance_due(
        self, frequency: str, day: dt.date, previous: dt.date | None, regime_changed: bool
    ) -> bool:
        """trading.rebalance_day: the manager plans on a rebalance day or a regime change."""
        return _trades.rebalance_due(frequency, day, previous) or regime_changed

    def diff_trades(
        self, current: Mapping[str, float], targets: Mapping[str, float], **rules: Any
    ) -> list[Trade]:
        """trades.min_trade, cap_trim, bucket_limit: the trades from current to targets."""
        return _trades.diff_trades(current, targets, **rules)

    # --- execution --------------------------------------------------------------------------
    def orders_of(self, decisions: Iterable[TradeDecided]) -> list[Order]:
        """execution.sell_before_buy: the orders of the day (the last decision counts)."""
        return _execution.orders_of(decisions)

    def fill_price(self, close: float, side: str, slip: float) -> float:
        """execution.costs: a buy fills at close x (1 + slippage), a sale at x (1 - it)."""
        return _execution.fill_price(close, side, slip)

    def fee(self, notional: float, side: str, commission: float) -> float:
        """execution.costs: commission on the traded notional, both sides."""
        return _execution.fee_of(notional, commission)

    def buy_scale(self, buy_cost: float, cash: float, cash_before_sells: float) -> float:
        """execution.cash_floor: the factor on every buy (`cash`: after the sells)."""
        return _execution.buy_scale(buy_cost, cash)

    # --- resolution -------------------------------------------------------------------------
    def severity_reaches(self, severity: str, threshold: str) -> bool:
        """resolution.regime_override: a change's severity at or above the threshold."""
        return _resolution.severity_rank(severity) >= _resolution.severity_rank(threshold)

    def override_eligible(
        self, ledger: RegimeOverrideLedger, asset: str, day: dt.date, cooldown: int
    ) -> bool:
        """resolution.override_cooldown: one override per asset per cooldown."""
        return ledger.eligible(asset, day, cooldown)

    def replan_request(self, held: HeldBack, round_: int, max_rounds: int) -> RequestReplan | None:
        """resolution.replan: the request to re-plan after round `round_`, or None."""
        return _resolution.replan_request(held, round_, max_rounds)


DEFAULT_STAGES = Stages()
"""The stage rules as stated (a run's unless a mutant is switched in)."""
