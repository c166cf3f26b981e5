"""The portfolio manager's desk: what it knows through one day, and the plans it makes.

A `Desk` holds the portfolio manager's state as plain values: the day's score board, the
regime, what the protections proposed and the orchestrator decided so far today (what
trades, at which weight), the holding reviews due, the core assets as last listed, the
smart overrides waiting to ask for core designation, and the selection status board. The
agent reads its inbox into the desk and publishes what the desk returns: the holdings'
scores, the rebalance notice, the selection changes and one proposal per trade
(docs/construction.md). Nothing here reads a model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from domain.buckets import UNKNOWN_BUCKET
from domain.config import Config
from domain.construction.inputs import (
    DayMemo,
    MarketReturns,
    PlanInputs,
    Universe,
    window_rows,
)
from domain.construction.plan import Plan, plan_targets
from domain.construction.proposals import (
    limit_rules,
    score_rule,
    trade_reason,
    trade_rules,
)
from domain.construction.status import Status, StatusBoard, selection_changes
from domain.construction.trades import Trade
from domain.execution import CostRates, side_of
from domain.market import MarketData
from domain.messages import (
    AMENDED,
    APPROVED,
    OPEN,
    NoticeIssued,
    ProposeTrade,
    RegimeUpdated,
    RequestCoreDesignation,
    RequestReplan,
    ScoresPublished,
    TradeDecided,
)
from domain.protections.base import PositionView
from domain.resolution import PLANNER
from domain.rules import REBALANCE_DAY
from domain.scenario import AssetSpec, Signals
from domain.score_tables import ScoreTables, usable
from domain.scoring import ScoreBoard, apply_overrides
from domain.scoring_models import ScoringModel
from domain.stages import DEFAULT_STAGES, Stages

HOLDING_REVIEW = "holding_review"
"""The notice event of a holding whose maximum-holding review is due today."""
CORE_LIST = "core_assets"
"""The detail of every core_* notice that lists the core assets."""


@attrs.frozen(eq=False)
class Screen:
    """What the desk reads of the world on one call.

    Attributes:
        market: Closes of every asset; row `t` is today and no row after it is read.
        t: Today's row in `market`.
        date: Today.
        step: The steps finished before today (today's index).
        config: The configuration in force.
        book: The book before today's trades: asset -> weight and entry date.
        drawdown: How far the equity is below its peak.
        stages: The run's stage rules (`domain.stages`): scoring, the plan, the trades.
    """

    market: MarketData
    t: int
    date: dt.date
    step: int
    config: Config
    book: Mapping[str, PositionView]
    drawdown: float
    stages: Stages = DEFAULT_STAGES

    def weights(self) -> dict[str, float]:
        """The book's weights."""
        return {a: p.weight for a, p in self.book.items()}

    def days_held(self) -> dict[str, int]:
        """Calendar days each holding with an entry date has been held."""
        return {
            a: (self.date - p.entered).days for a, p in self.book.items() if p.entered is not None
        }


@attrs.frozen
class Outbox:
    """What one plan publishes, in order: the notices, then the proposals.

    Attributes:
        notices: The rebalance notice (round 0 only) and the selection changes.
        proposals: One proposal per trade.
    """

    notices: tuple[NoticeIssued, ...] = attrs.field(default=(), converter=tuple)
    proposals: tuple[ProposeTrade, ...] = attrs.field(default=(), converter=tuple)


NOTHING = Outbox()
"""The outbox of a day with no plan."""


def fundamentals_of(assets: Mapping[str, AssetSpec], tickers: Sequence[str]) -> np.ndarray:
    """Each ticker's fundamental score (NaN: none given, technical-only scoring)."""
    values = [
        np.nan if assets.get(t) is None or assets[t].fundamental is None else assets[t].fundamental
        for t in tickers
    ]
    return np.array(values, dtype=float)


_NOTICE_DETAILS = tuple(f.name for f in attrs.fields(Status) if f.name not in ("asset", "rule"))
"""The fields of a `Status` that a selection notice gives as details, in their order."""


def selection_notice(status: Status) -> NoticeIssued:
    """A selection change as a notice: the status's fields as details, its rule as the rule."""
    details = {name: getattr(status, name) for name in _NOTICE_DETAILS}
    return NoticeIssued(event="selection", asset=status.asset, details=details, rule=status.rule)


def rebalance_notice(
    plan: Plan, n_trades: int, regime: RegimeUpdated, frequency: str
) -> NoticeIssued:
    """The record that today is a rebalance day (or a regime change), and the plan's limits."""
    why = "regime changed" if regime.changed else f"{frequency} rebalance day"
    details = {
        "reason": why,
        "max_total": plan.limits.max_total,
        "max_new": plan.limits.max_new,
        "positions": len(plan.targets),
        "trades": n_trades,
    }
    return NoticeIssued(
        event="rebalance", details=details, rule=REBALANCE_DAY.id, rules=limit_rules(plan.limits)
    )


# The desk's state changes a dozen times a day: plain assignments (`tickers`, the one
# field with a converter, is set once, at construction).
@attrs.define(on_setattr=attrs.setters.NO_OP)
class Desk:
    """The portfolio manager's state through one day, and the plans it makes from it.

    Attributes:
        tickers: The planner's column order (the market's tickers).
        fundamentals: Each column's fundamental score (`fundamentals_of`).
        signals: The scenario's scripted score overrides.
        model: The scenario's scoring model (None: the default blend, `domain.scoring`).
        board: Today's score board (None before the first scoring).
        regime: Today's RegimeUpdated.
        status: Every asset's selection status as last recorded.
        planned: Whether today is a planning day (a rebalance day or a regime change).
        previous_day: The last day a rebalance was considered (before today).
        opened: Opens decided today with a weight above 0.
        decided: asset -> the weight decided for it today (the last decision wins).
        trading: asset -> (end-of-day target, side) of today's last decision that trades
            (None: blocked), starting from the protections' own proposals.
        review_due: Holdings whose maximum-holding review is due today.
        core: The core assets as the core_asset protection last listed them.
        pending: Today's smart overrides that ask for core designation tomorrow.
        requested: The overrides already asked for, while they stay overrides.
        column: ticker -> its column (derived from `tickers`).
        tables: The run's scoring tables (`domain.score_tables`), built from the market's
            closes on the first scoring with the default blend (None before, or when
            they cannot serve: a scoring model, or closes not read-only).
        day_memo: Today's `DayMemo` (the planner's closes window and what the day's
            rounds derive from it alone).
    """

    tickers: tuple[str, ...] = attrs.field(converter=tuple)
    fundamentals: np.ndarray
    signals: Signals = attrs.field(factory=Signals)
    model: ScoringModel | None = None
    board: ScoreBoard | None = None
    regime: RegimeUpdated | None = None
    status: StatusBoard = attrs.field()
    planned: bool = False
    previous_day: dt.date | None = None
    opened: int = 0
    decided: dict[str, float] = attrs.field(factory=dict)
    trading: dict[str, tuple[float, str] | None] = attrs.field(factory=dict)
    review_due: set[str] = attrs.field(factory=set)
    core: frozenset[str] = frozenset()
    pending: dict[str, RequestCoreDesignation] = attrs.field(factory=dict)
    requested: set[str] = attrs.field(factory=set)
    column: Mapping[str, int] = attrs.field(init=False)
    _universe: tuple[MarketData, Universe] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )
    tables: ScoreTables | None = attrs.field(default=None, init=False, eq=False, repr=False)
    _market_returns: tuple[MarketData, MarketReturns | None] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )
    day_memo: DayMemo | None = attrs.field(default=None, init=False, eq=False, repr=False)

    @status.default
    def _no_status(self) -> StatusBoard:
        return StatusBoard.empty(len(self.tickers))

    @column.default
    def _columns(self) -> Mapping[str, int]:
        return {t: j for j, t in enumerate(self.tickers)}

    @classmethod
    def open(
        cls,
        tickers: Sequence[str],
        assets: Mapping[str, AssetSpec],
        signals: Signals,
        model: ScoringModel | None = None,
    ) -> Desk:
        """A desk for `tickers`, scoring with the scenario's fundamentals and signals (and
        its scoring `model`, None for the default blend)."""
        fundamentals = fundamentals_of(assets, tickers)
        return cls(tickers=tickers, fundamentals=fundamentals, signals=signals, model=model)

    # --- scores -----------------------------------------------------------------------
    def score(self, screen: Screen) -> ScoresPublished:
        """Score every asset from prices up to today; the holdings' scores to publish."""
        cfg, closes = screen.config, screen.market.closes
        board = screen.stages.score_as_of(
            closes,
            screen.t,
            fundamentals=self.fundamentals,
            technical_weight=cfg.technical_weight,
            fundamental_weight=cfg.fundamental_weight,
            model=self.model,
            tables=self._tables_for(closes),
        )
        self.board = apply_overrides(board, screen.date, self.tickers, self.signals)
        scores = {a: self.score_of(a) for a in screen.book}
        return ScoresPublished(scores=scores, rule=score_rule(self.board, self.column, scores))

    def _tables_for(self, closes: np.ndarray) -> ScoreTables | None:
        """The scoring tables of `closes`, built on first use (None: none can serve)."""
        if self.model is not None or not usable(closes):
            return None
        if self.tables is None or not self.tables.covers(closes):
            self.tables = ScoreTables(closes)
        return self.tables

    def score_of(self, asset: str | None) -> float | None:
        """`asset`'s score on the last board (None: no board yet, or not a ticker)."""
        if self.board is None or asset not in self.column:
            return None
        return round(float(self.board.score[self.column[asset]]), 6)

    # --- what the day brings ------------------------------------------------------------
    def start_day(self, regime: RegimeUpdated) -> None:
        """Forget yesterday's negotiation; take today's regime."""
        self.planned = False
        self.opened = 0
        self.decided = {}
        self.trading = {}
        self.review_due = set()
        self.regime = regime

    def read_notice(self, notice: NoticeIssued) -> None:
        """Note a holding review due today, or the core assets a core_* notice lists."""
        if notice.event == HOLDING_REVIEW:
            self.review_due.add(notice.asset)
        elif notice.event.startswith("core_") and CORE_LIST in notice.details:
            self.core = frozenset(notice.details[CORE_LIST])

    def read_decision(self, decision: TradeDecided) -> None:
        """Note a decision: the weight decided, what trades, and whether an open went through."""
        self.decided[decision.asset] = decision.final_weight
        self.trading[decision.asset] = (
            (decision.final_weight, side_of(decision.action))
            if decision.outcome in (APPROVED, AMENDED)
            else None
        )
        if decision.action == OPEN and decision.final_weight > 0:
            self.opened += 1

    def take_core_requests(
        self, held: Mapping[str, object], *, core_on: bool
    ) -> list[RequestCoreDesignation]:
        """Yesterday's smart overrides that now ask for core designation.

        The core_asset protection takes requests in its housekeeping, before the day's
        plan; so an override planned on day t asks on day t+1, and only when its position
        is on the book (an override whose open was blocked is not designated). The
        pending requests are dropped either way.

        Args:
            held: The book (only its assets are read).
            core_on: Whether the core_asset protection takes part today.

        Returns:
            The requests to send to core_asset, by asset.
        """
        pending, self.pending = self.pending, {}
        if not core_on:
            return []
        out = [pending[asset] for asset in sorted(pending) if asset in held]
        self.requested.update(r.asset for r in out)
        return out

    # --- plans --------------------------------------------------------------------------
    def plan_rebalance(self, screen: Screen, others: Sequence[ProposeTrade]) -> Outbox:
        """Round 0: plan around the protections' own proposals, on a rebalance day or a
        regime change (`rebalance_due`); nothing on other days."""
        previous, self.previous_day = self.previous_day, screen.date
        self.trading = {p.asset: (p.to_weight, side_of(p.action)) for p in others}
        frequency, changed = screen.config.rebalance_frequency, self.regime.changed
        if not screen.stages.rebalance_due(frequency, screen.date, previous, changed):
            return NOTHING
        self.planned = True
        return self._plan(screen, {p.asset: p.to_weight for p in others}, frozenset(), 0)

    def replan(self, screen: Screen, request: RequestReplan, round_: int) -> Outbox:
        """A later round: plan again around what the orchestrator locked and blocked
        (nothing on a day with no plan)."""
        if not self.planned:
            return NOTHING
        return self._plan(screen, dict(request.locked), frozenset(request.blocked), round_)

    def _plan(
        self, screen: Screen, locked: dict[str, float], excluded: frozenset[str], round_: int
    ) -> Outbox:
        """Plan; the rebalance notice (round 0), the selection changes, the proposals."""
        cfg, market = screen.config, screen.market
        inputs = self.inputs(screen, locked, excluded)
        plan = plan_targets(inputs)
        threshold = cfg.core_asset_override_threshold
        self._note_overrides(plan, screen.date, threshold, round_, screen.stages)
        trades = screen.stages.diff_trades(
            screen.weights(),
            plan.targets,
            min_trade_weight=cfg.min_trade_weight,
            skip=tuple(locked),
            baseline=self.decided if round_ > 0 else None,
            cap=cfg.max_single_position_size,
            bucket_of=market.bucket_of if cfg.enable_bucket_diversification else None,
            bucket_limit=cfg.max_bucket_allocation,
            rates=CostRates.of(cfg.slippage_bps, cfg.commission),
            fixed={a: t for a, t in sorted(self.trading.items()) if t is not None},
            exempt=frozenset(plan.overrides),
        )
        notices = []
        if round_ == 0:
            notices.append(
                rebalance_notice(plan, len(trades), self.regime, cfg.rebalance_frequency)
            )
        changes, self.status = selection_changes(inputs, plan, self.status)
        notices.extend(selection_notice(status) for status in changes)
        proposals = [
            self._proposal(screen, trade, plan, f"{screen.step}:{round_}:pm:{n}")
            for n, trade in enumerate(trades)
        ]
        return Outbox(notices, proposals)

    def inputs(
        self, screen: Screen, locked: Mapping[str, float], excluded: frozenset[str]
    ) -> PlanInputs:
        """The planner's inputs: the day's scores, the book as decided so far, the regime.

        In a re-plan round the plan starts from the book as decided so far: an open
        approved in an earlier round is a position to keep (or re-size), not a candidate.
        """
        cfg, market, board = screen.config, screen.market, self.board
        planned = {a: w for a, w in {**screen.weights(), **self.decided}.items() if w > 0}
        universe = self._universe_of(market)
        day = self._day_of(market, screen.t, window_rows(cfg))
        return PlanInputs(
            tickers=universe.tickers,
            score=board.score,
            trending=board.trending,
            valid=board.valid & ~np.isnan(market.closes[screen.t]),
            weights=planned,
            config=cfg,
            locked=locked,
            excluded=excluded,
            review_due=frozenset(self.review_due),
            buckets=universe.buckets,
            days_held=screen.days_held(),
            favored_buckets=frozenset(self.regime.favored_buckets),
            regime_changed=self.regime.changed,
            opened=self.opened,
            closes=day.closes,
            drawdown=screen.drawdown,
            stages=screen.stages,
            universe=universe,
            day=day,
        )

    def _day_of(self, market: MarketData, t: int, rows: int) -> DayMemo:
        """The `DayMemo` of `market`'s last `rows` closes up to row `t`, built on the day's
        first plan and shared by its re-plan rounds."""
        memo = self.day_memo
        if memo is None or memo.source[0] is not market or memo.source[1:] != (t, rows):
            window = market.window(t, rows)
            returns = self._returns_of(market)
            memo = self.day_memo = DayMemo(window, source=(market, t, rows), market=returns, row=t)
        return memo

    def _returns_of(self, market: MarketData) -> MarketReturns | None:
        """The market's `MarketReturns`, built once per market (None: its closes are
        not read-only, so they could change under them)."""
        if self._market_returns is None or self._market_returns[0] is not market:
            closes = market.closes
            fixed = isinstance(closes, np.ndarray) and not closes.flags.writeable
            self._market_returns = (market, MarketReturns(closes) if fixed else None)
        return self._market_returns[1]

    def _universe_of(self, market: MarketData) -> Universe:
        """The planner's columns over `market`'s buckets, built once per market (what
        each plan derives from them is kept in it)."""
        if self._universe is None or self._universe[0] is not market:
            buckets = tuple(market.bucket_of[t] for t in self.tickers)
            self._universe = (market, Universe(self.tickers, buckets))
        return self._universe[1]

    def _proposal(self, screen: Screen, trade: Trade, plan: Plan, proposal_id: str) -> ProposeTrade:
        """One trade as a proposal, with the plan's reason and numbers."""
        components = self.board.for_asset(self.column[trade.asset])
        components["bucket"] = screen.market.bucket_of.get(trade.asset, UNKNOWN_BUCKET)
        components.update(plan.components(trade.asset))
        components["rules"] = {**components["rules"], **trade_rules(trade, plan, screen.config)}
        cap = screen.config.max_single_position_size
        return ProposeTrade(
            proposal_id=proposal_id,
            asset=trade.asset,
            action=trade.action,
            from_weight=trade.from_weight,
            to_weight=trade.to_weight,
            score=components["score"],
            reason=trade_reason(trade, plan, components["score"], cap),
            origin=PLANNER,
            components=components,
        )

    def _note_overrides(
        self, plan: Plan, day: dt.date, threshold: float, round_: int, stages: Stages
    ) -> None:
        """Keep today's smart overrides that ask for core designation tomorrow
        (`core_requests`); a run of consecutive rebalances with the same override asks
        once."""
        if round_ == 0:
            self.requested &= set(plan.overrides)
        self.pending.update(stages.core_requests(plan, day, threshold, self.core, self.requested))
