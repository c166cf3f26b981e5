"""Mutants of the stage rules: subclasses of `domain.stages.Stages` breaking one step.

Each class overrides one step of one stage rule in one realistic way (the parameter
ignored, the comparison moved by one, the sign flipped, the step skipped, done once
instead of repeated), usually by calling the real step with the deciding quantity moved.
`Mutant.apply` switches it in as the run's `Registry.stages` (one instance per run, so a
mutant may remember what it saw: `DynamicLimitsNeverRevert`). `STAGE_MUTANTS` is the
catalogue (`domain.protections.mutants.BUILTIN_MUTANTS` holds it too).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import Any

import attrs
import numpy as np

from domain import rules
from domain.config import Config
from domain.construction.buckets import gram
from domain.construction.inputs import (
    CONCENTRATION_MIN_NEW,
    EPS,
    HIGH_VOL_NEW_FACTOR,
    Limits,
    PlanInputs,
)
from domain.construction.plan import Plan
from domain.construction.selection import BELOW_KEEP, REVIEW_FAILED, TRENDING_EXISTING, Reason
from domain.construction.sizing import ResidualReport
from domain.construction.trades import Trade
from domain.execution import BUY, Order
from domain.messages import (
    AMENDED,
    APPROVED,
    CLOSE,
    RequestCoreDesignation,
    RequestReplan,
    TradeDecided,
)
from domain.mutant import Mutant
from domain.resolution import HeldBack, RegimeOverrideLedger, severity_rank
from domain.scoring import ScoreBoard
from domain.stages import Stages

_UNLIMITED = 10**9
"""A count no limit reaches (the limit ignored)."""
_DECAY_PERIOD = 30


def _ignoring(config: Config, **values: Any) -> Config:
    """`config` with `values` set past what a scenario may set (a limit ignored): not
    validated, as no run could set them."""
    return Config._trusted({**config.to_dict(), **values})


# --- scoring --------------------------------------------------------------------------


class ScoreWeightsSwapped(Stages):
    """technical_weight and fundamental_weight exchanged in the blend."""

    def score_as_of(self, closes: np.ndarray, t: int, **kw: Any) -> ScoreBoard:
        tw, fw = kw["technical_weight"], kw["fundamental_weight"]
        return super().score_as_of(
            closes, t, **{**kw, "technical_weight": fw, "fundamental_weight": tw}
        )


class ScoreFundamentalIgnored(Stages):
    """Every asset scored technical-only: the fundamentals ignored."""

    def score_as_of(self, closes: np.ndarray, t: int, **kw: Any) -> ScoreBoard:
        none = np.full(np.shape(kw["fundamentals"]), np.nan)
        return super().score_as_of(closes, t, **{**kw, "fundamentals": none})


# --- the day's limits and ranking -----------------------------------------------------


class DynamicLimitsNeverRevert(Stages):
    """The regime-change limits never revert: once the regime changed, every later plan
    keeps max_new x regime_change_aggression and max_total x 1.2."""

    def __init__(self) -> None:
        self._changed = False

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        self._changed = self._changed or inp.regime_changed
        return super().dynamic_limits(attrs.evolve(inp, regime_changed=self._changed))


class DynamicLimitsAggressionIgnored(Stages):
    """On a regime change max_new is not multiplied: regime_change_aggression ignored."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        config = _ignoring(inp.config, regime_change_aggression=1.0)
        return super().dynamic_limits(attrs.evolve(inp, config=config))


class DynamicLimitsTotalKept(Stages):
    """On a regime change max_total is not raised (x 1.2 skipped)."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        limits = super().dynamic_limits(inp)
        if not inp.regime_changed:
            return limits
        return attrs.evolve(limits, max_total=inp.config.max_total_positions)


class HighVolatilityIgnored(Stages):
    """max_new never halves: the market's volatility ignored."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        return super().dynamic_limits(attrs.evolve(inp, closes=None))


def _halved_as(inp: PlanInputs, limits: Limits, halve: Callable[[int], int]) -> Limits:
    """`limits` with max_new halved by `halve` on a high-volatility day (the regime-change
    and concentration steps as stated)."""
    if not limits.high_volatility:
        return limits
    cfg = inp.config
    max_new = cfg.max_new_positions
    if inp.regime_changed:
        max_new = int(max_new * cfg.regime_change_aggression)
    max_new = halve(max_new)
    if limits.concentrated:
        max_new = max(CONCENTRATION_MIN_NEW, max_new)
    budget = max(max_new - int(inp.opened), 0)
    return attrs.evolve(limits, max_new=max_new, new_budget=budget)


def _halve_unfloored(n: int) -> int:
    return int(n * HIGH_VOL_NEW_FACTOR)


def _halve_rounded_up(n: int) -> int:
    return max(1, math.ceil(n * HIGH_VOL_NEW_FACTOR))


class HighVolatilityUnfloored(Stages):
    """The halving not floored at 1: max_new 1 halves to 0 on a high-volatility day."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        return _halved_as(inp, super().dynamic_limits(inp), _halve_unfloored)


class HighVolatilityRoundedUp(Stages):
    """The halving rounded up, not down: max_new 3 halves to 2 on a high-volatility day."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        return _halved_as(inp, super().dynamic_limits(inp), _halve_rounded_up)


class ConcentrationIgnored(Stages):
    """The largest bucket's share ignored: no max_new of 2, no other buckets first."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        return super().dynamic_limits(attrs.evolve(inp, weights={}))


class ConcentrationMinNewOneLow(Stages):
    """A concentrated book lifts max_new to 1, not 2 (the minimum one low)."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        limits = super().dynamic_limits(inp)
        if not limits.concentrated:
            return limits
        unconcentrated = super().dynamic_limits(attrs.evolve(inp, weights={})).max_new
        max_new = max(CONCENTRATION_MIN_NEW - 1, unconcentrated)
        return attrs.evolve(limits, max_new=max_new, new_budget=max(max_new - int(inp.opened), 0))


class ConcentrationOthersFirstIgnored(Stages):
    """A concentrated book gets max_new 2, but its largest bucket is not sent last: new
    slots go by score alone."""

    def dynamic_limits(self, inp: PlanInputs) -> Limits:
        return attrs.evolve(super().dynamic_limits(inp), largest_bucket=None)


class ScoreDecayIgnored(Stages):
    """Holdings ranked by their undecayed score: score_decay_factor ignored."""

    def rank_scores(self, inp: PlanInputs) -> np.ndarray:
        return np.array(inp.score, dtype=float)


class ScoreDecayEarly(Stages):
    """A holding decays a period early (from its first day, not after 30 days)."""

    def rank_scores(self, inp: PlanInputs) -> np.ndarray:
        older = {a: int(d) + _DECAY_PERIOD for a, d in inp.days_held.items()}
        return super().rank_scores(attrs.evolve(inp, days_held=older))


# --- selection ------------------------------------------------------------------------


class KeepThresholdIgnored(Stages):
    """A holding is kept whatever its score: min_score_threshold ignored."""

    def check_keep_threshold(self, inp: PlanInputs, j: int) -> Reason | None:
        return None


class KeepThresholdOpenLevel(Stages):
    """A holding must meet min_score_new_position, not min_score_threshold, to stay."""

    def check_keep_threshold(self, inp: PlanInputs, j: int) -> Reason | None:
        cfg, score = inp.config, float(inp.threshold_score[j])
        if score >= cfg.min_score_new_position:
            return None
        detail = f"score {score:.3f} below min_score_new_position {cfg.min_score_new_position}"
        return Reason(BELOW_KEEP, detail, rules.KEEP_THRESHOLD)


class ReviewThresholdIgnored(Stages):
    """A holding due its forced review stays on the keep threshold alone."""

    def check_review(self, inp: PlanInputs, j: int) -> Reason | None:
        return None


class ReviewThresholdStrict(Stages):
    """A holding due its forced review needs a score above min_score_new_position (`>` for
    `>=`): a score exactly at it fails the review."""

    def check_review(self, inp: PlanInputs, j: int) -> Reason | None:
        cfg, score = inp.config, float(inp.threshold_score[j])
        if inp.tickers[j] not in inp.review_due or score > cfg.min_score_new_position:
            return None
        detail = f"maximum holding review: score {score:.3f} not above {cfg.min_score_new_position}"
        return Reason(REVIEW_FAILED, detail, rules.REVIEW_THRESHOLD)


class TrendingExistingIgnored(Stages):
    """A holding is kept whatever its trending confidence."""

    def check_trending_existing(self, inp: PlanInputs, j: int) -> Reason | None:
        return None


class TrendingExistingStrict(Stages):
    """A holding needs a trending confidence above trending_confidence_existing (`>` for
    `>=`): one exactly at it is closed."""

    def check_trending_existing(self, inp: PlanInputs, j: int) -> Reason | None:
        cfg, trending = inp.config, float(inp.trending[j])
        if trending > cfg.trending_confidence_existing:
            return None
        detail = f"trending {trending:.2f} not above {cfg.trending_confidence_existing}"
        return Reason(TRENDING_EXISTING, detail, rules.TRENDING_EXISTING)


class OpenThresholdKeepLevel(Stages):
    """New positions open at min_score_threshold instead of min_score_new_position."""

    def open_eligible(self, inp: PlanInputs) -> np.ndarray:
        cfg = inp.config
        config = _ignoring(cfg, min_score_new_position=cfg.min_score_threshold)
        return super().open_eligible(attrs.evolve(inp, config=config))


class OpenTrendingIgnored(Stages):
    """New positions open whatever their trending confidence."""

    def open_eligible(self, inp: PlanInputs) -> np.ndarray:
        config = _ignoring(inp.config, trending_confidence_new=0.0)
        return super().open_eligible(attrs.evolve(inp, config=config))


class UniverseStrict(Stages):
    """A candidate joins the universe only with a trending confidence above
    trending_confidence_new (`>` for `>=`): one exactly at it is left out."""

    def open_eligible(self, inp: PlanInputs) -> np.ndarray:
        above = np.asarray(inp.trending, dtype=float) > inp.config.trending_confidence_new
        return super().open_eligible(inp) & above


class UniverseExistingLevel(Stages):
    """Candidates join the universe at trending_confidence_existing, the holdings' level,
    instead of trending_confidence_new."""

    def open_eligible(self, inp: PlanInputs) -> np.ndarray:
        cfg = inp.config
        config = _ignoring(cfg, trending_confidence_new=cfg.trending_confidence_existing)
        return super().open_eligible(attrs.evolve(inp, config=config))


class MaxNewIgnored(Stages):
    """Any number of opens per rebalance: max_new_positions ignored."""

    def portfolio_room(self, limits: Limits, n_locked: int, n_keep: int) -> int:
        return super().portfolio_room(attrs.evolve(limits, new_budget=_UNLIMITED), n_locked, n_keep)


class MaxNewOffByOne(Stages):
    """One open more than max_new_positions (`<=` for `<`)."""

    def portfolio_room(self, limits: Limits, n_locked: int, n_keep: int) -> int:
        budget = limits.new_budget + 1
        return super().portfolio_room(attrs.evolve(limits, new_budget=budget), n_locked, n_keep)


class MaxNewBudgetNotReduced(Stages):
    """A re-plan round gets all of max_new again: the opens approved earlier that step
    are not counted."""

    def portfolio_room(self, limits: Limits, n_locked: int, n_keep: int) -> int:
        budget = limits.max_new
        return super().portfolio_room(attrs.evolve(limits, new_budget=budget), n_locked, n_keep)


class MaxTotalIgnored(Stages):
    """Any number of positions: max_total_positions ignored."""

    def portfolio_room(self, limits: Limits, n_locked: int, n_keep: int) -> int:
        return super().portfolio_room(attrs.evolve(limits, max_total=_UNLIMITED), n_locked, n_keep)


class MaxTotalLockedNotCounted(Stages):
    """max_total_positions counts the kept holdings but not the locked positions."""

    def portfolio_room(self, limits: Limits, n_locked: int, n_keep: int) -> int:
        return super().portfolio_room(limits, 0, n_keep)


# --- buckets --------------------------------------------------------------------------


class BucketSlotsPerBucketIgnored(Stages):
    """A bucket's slots are not capped at max_positions_per_bucket."""

    def bucket_slots(
        self, present: Iterable[str], max_total: int, favored: Iterable[str], max_per_bucket: int
    ) -> dict[str, int]:
        return super().bucket_slots(present, max_total, favored, _UNLIMITED)


class BucketSlotsFavoredIgnored(Stages):
    """A bucket the regime favours gets no extra slot."""

    def bucket_slots(
        self, present: Iterable[str], max_total: int, favored: Iterable[str], max_per_bucket: int
    ) -> dict[str, int]:
        return super().bucket_slots(present, max_total, (), max_per_bucket)


class CorrelationIgnored(Stages):
    """No candidate is dropped for correlation: correlation_limit ignored."""

    def correlation_drops(
        self, members: Sequence[int], droppable: Sequence[bool], corr: np.ndarray, limit: float
    ) -> dict[int, tuple[int, float]]:
        return {}


class CorrelationAtLimit(Stages):
    """A correlation exactly at correlation_limit drops too (`>=` for `>`)."""

    def correlation_drops(
        self, members: Sequence[int], droppable: Sequence[bool], corr: np.ndarray, limit: float
    ) -> dict[int, tuple[int, float]]:
        return super().correlation_drops(members, droppable, corr, limit - EPS)


class CorrelationSigned(Stages):
    """The correlation's sign kept (the absolute value dropped): a candidate moving against
    a better-ranked one is never dropped."""

    def abs_correlations(self, returns: np.ndarray, min_obs: int) -> np.ndarray:
        returns = np.asarray(returns, dtype=float)
        stated = super().abs_correlations(returns, min_obs)
        m = returns.shape[1]
        if m < 2 or returns.shape[0] < max(min_obs, 2):
            return stated
        centred = np.ascontiguousarray(returns.T - returns.mean(axis=0)[:, None])
        with np.errstate(invalid="ignore"):
            signed = np.nan_to_num(gram(centred), nan=0.0)  # the covariance's sign
        out = np.where(stated > 0, np.sign(signed) * stated, stated)
        np.fill_diagonal(out, 1.0)
        return out


class BucketOverrideThresholdIgnored(Stages):
    """Every asset the slots turn away may be admitted: bucket_override_threshold ignored."""

    def override_hopefuls(self, inp: PlanInputs, turned_away: Sequence[int]) -> list[int]:
        return [int(j) for j in turned_away]


class BucketOverrideOneMore(Stages):
    """One smart override more than max_bucket_overrides."""

    def bucket_overrides(self, inp: PlanInputs, *args: Any) -> set[int]:
        more = inp.config.max_bucket_overrides + 1
        config = _ignoring(inp.config, max_bucket_overrides=more)
        return super().bucket_overrides(attrs.evolve(inp, config=config), *args)


class MinBucketsSkipped(Stages):
    """Missing buckets are never added: min_buckets_represented ignored."""

    def min_buckets(self, inp: PlanInputs, *args: Any) -> tuple[list[int], int]:
        _book, _keep, picked, *_rest = args
        return list(picked), 0


class MinBucketsOneShort(Stages):
    """One bucket fewer than min_buckets_represented is enough."""

    def min_buckets(self, inp: PlanInputs, *args: Any) -> tuple[list[int], int]:
        need = inp.config.min_buckets_represented - 1
        config = _ignoring(inp.config, min_buckets_represented=need)
        return super().min_buckets(attrs.evolve(inp, config=config), *args)


class BucketAllocationIgnored(Stages):
    """No bucket is scaled down: max_bucket_allocation not enforced in sizing."""

    def scale_buckets(
        self,
        weights: np.ndarray,
        member_buckets: Sequence[str],
        exempt: np.ndarray,
        locked_by_bucket: Mapping[str, float],
        cap: float,
    ) -> tuple[np.ndarray, dict[str, float]]:
        return np.array(weights, dtype=float), {}


class BucketAllocationLockedIgnored(Stages):
    """The bucket limit counts only the planned positions, not the locked ones."""

    def scale_buckets(
        self,
        weights: np.ndarray,
        member_buckets: Sequence[str],
        exempt: np.ndarray,
        locked_by_bucket: Mapping[str, float],
        cap: float,
    ) -> tuple[np.ndarray, dict[str, float]]:
        return super().scale_buckets(weights, member_buckets, exempt, {}, cap)


class CoreRequestThresholdIgnored(Stages):
    """Every smart override asks for core designation: core_asset_override_threshold
    ignored."""

    def core_requests(
        self, plan: Plan, day: dt.date, threshold: float, core: Set[str], requested: Set[str]
    ) -> dict[str, RequestCoreDesignation]:
        return super().core_requests(plan, day, -1.0, core, requested)


class CoreRequestEveryDay(Stages):
    """An override asks again on every rebalance, not once per run of overrides."""

    def core_requests(
        self, plan: Plan, day: dt.date, threshold: float, core: Set[str], requested: Set[str]
    ) -> dict[str, RequestCoreDesignation]:
        return super().core_requests(plan, day, threshold, core, frozenset())


# --- sizing ---------------------------------------------------------------------------


class RawAdaptiveWithoutOne(Stages):
    """adaptive sizing loses its `1 +`: target / n x (score / sum of scores)."""

    def raw_weights(self, score: np.ndarray, config: Config, target: float) -> np.ndarray:
        raw = super().raw_weights(score, config, target)
        if config.position_size_scaling != "adaptive" or raw.size == 0:
            return raw
        return raw - target / raw.size


class RawScoreIgnored(Stages):
    """Every position_size_scaling sizes equally: the score ignored."""

    def raw_weights(self, score: np.ndarray, config: Config, target: float) -> np.ndarray:
        return np.ones(np.size(score))


class VolatilityInverted(Stages):
    """The volatility multiplier inverted: own vol / median (the riskier, the larger)."""

    def volatility_factors(self, vols: np.ndarray) -> np.ndarray:
        return 1.0 / super().volatility_factors(vols)


class VolatilityIgnored(Stages):
    """No volatility scaling: volatility_position_scaling ignored."""

    def volatility_factors(self, vols: np.ndarray) -> np.ndarray:
        return np.ones(np.shape(vols))


class CapOnce(Stages):
    """The two-stage cap done once: what the capped positions give up is shared once,
    and a position that share lifts above the cap stays there."""

    def cap_and_normalise(self, raw: np.ndarray, cap: float, target: float) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        total = raw.sum()
        if raw.size == 0 or target <= 0 or total <= 0:
            return np.zeros_like(raw)
        out = raw * (target / total)
        over = out > cap + EPS
        free = ~over & (raw > 0)
        if over.any() and free.any():
            out[free] = raw[free] * ((target - cap * over.sum()) / raw[free].sum())
        out[over] = cap
        return out


class CapIgnored(Stages):
    """No position cap: max_single_position_size ignored."""

    def cap_and_normalise(self, raw: np.ndarray, cap: float, target: float) -> np.ndarray:
        return super().cap_and_normalise(raw, max(cap, target), target)


class NoRoomSkipped(Stages):
    """Sizing goes on when the locked positions leave no room (nothing dropped for it)."""

    def check_no_room(self, inp: PlanInputs, frame: Any, active: list[int]) -> dict[int, Reason]:
        return {}


class MinPositionIgnored(Stages):
    """A position below min_position_size is kept (only an empty one is dropped)."""

    def check_min_position(
        self, inp: PlanInputs, w: np.ndarray, active: list[int], rank: np.ndarray
    ) -> int | None:
        i = super().check_min_position(inp, w, active, rank)
        return i if i is not None and w[i] <= EPS else None


class MinPositionStrict(Stages):
    """A position exactly at min_position_size is dropped too (`<=` for `<`)."""

    def check_min_position(
        self, inp: PlanInputs, w: np.ndarray, active: list[int], rank: np.ndarray
    ) -> int | None:
        config = _ignoring(inp.config, min_position_size=inp.config.min_position_size + 2 * EPS)
        return super().check_min_position(attrs.evolve(inp, config=config), w, active, rank)


class _Residual(Stages):
    """The residual step with the configuration or the residual it reads changed
    (`_changed`; not a mutant itself)."""

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
        config, residual = self._changed(config, residual)
        return super().allocate_residual(weights, scores, tickers, buckets, room, config, residual)

    def _changed(self, config: Config, residual: float) -> tuple[Config, float]:
        return config, residual  # as stated: each subclass below breaks one thing


class ResidualSkipped(_Residual):
    """The residual always stays in cash, however large."""

    def _changed(self, config: Config, residual: float) -> tuple[Config, float]:
        return config, 0.0


class ResidualPerAssetIgnored(_Residual):
    """A residual addition is not limited by max_residual_per_asset_pct."""

    def _changed(self, config: Config, residual: float) -> tuple[Config, float]:
        return _ignoring(config, max_residual_per_asset_pct=1.0), residual


class ResidualMultipleIgnored(_Residual):
    """A residual addition is not limited by max_residual_position_multiple."""

    def _changed(self, config: Config, residual: float) -> tuple[Config, float]:
        return _ignoring(config, max_residual_position_multiple=float(_UNLIMITED)), residual


class DrawdownIgnored(Stages):
    """No drawdown reduction: drawdown_trigger ignored."""

    def drawdown_factor(self, inp: PlanInputs) -> float:
        return 1.0


class DrawdownInverted(Stages):
    """The reduction applied while the drawdown is *below* drawdown_trigger (`<` for `>`)."""

    def drawdown_factor(self, inp: PlanInputs) -> float:
        cfg = inp.config
        return cfg.drawdown_position_reduction if inp.drawdown < cfg.drawdown_trigger else 1.0


# --- trades ---------------------------------------------------------------------------


_DAY = dt.timedelta(days=1)


class RebalanceEveryDay(Stages):
    """The manager plans every day: rebalance_frequency ignored."""

    def rebalance_due(
        self, frequency: str, day: dt.date, previous: dt.date | None, regime_changed: bool
    ) -> bool:
        return True


class RebalanceWeeklyTuesday(Stages):
    """A weekly rebalance on the week's second trading day (Tuesday), not its first."""

    def rebalance_due(
        self, frequency: str, day: dt.date, previous: dt.date | None, regime_changed: bool
    ) -> bool:
        if frequency != "weekly" or previous is None:
            return super().rebalance_due(frequency, day, previous, regime_changed)
        return super().rebalance_due(frequency, day - _DAY, previous - _DAY, regime_changed)


class RebalanceRegimeChangeIgnored(Stages):
    """No plan on a regime change between rebalance days."""

    def rebalance_due(
        self, frequency: str, day: dt.date, previous: dt.date | None, regime_changed: bool
    ) -> bool:
        return super().rebalance_due(frequency, day, previous, False)


class MinTradeIgnored(Stages):
    """Every change of target is proposed, however small: min_trade_weight ignored."""

    def diff_trades(
        self, current: Mapping[str, float], targets: Mapping[str, float], **kw: Any
    ) -> list[Trade]:
        return super().diff_trades(current, targets, **{**kw, "min_trade_weight": 0.0})


class MinTradeClosesFiltered(Stages):
    """A close smaller than min_trade_weight is not proposed: closes filtered like any
    change (the rule exempts opens and closes)."""

    def diff_trades(
        self, current: Mapping[str, float], targets: Mapping[str, float], **kw: Any
    ) -> list[Trade]:
        out = super().diff_trades(current, targets, **kw)
        small = kw["min_trade_weight"]
        return [t for t in out if not (t.action == CLOSE and t.from_weight < small)]


class CapTrimIgnored(Stages):
    """A holding above max_single_position_size is not trimmed when the change is small."""

    def diff_trades(
        self, current: Mapping[str, float], targets: Mapping[str, float], **kw: Any
    ) -> list[Trade]:
        return super().diff_trades(current, targets, **{**kw, "cap": None})


class CapTrimSlack(Stages):
    """A holding is trimmed back to the cap only when it would end the day at least
    min_trade_weight above max_single_position_size (the cap given the trade filter's
    slack)."""

    def diff_trades(
        self, current: Mapping[str, float], targets: Mapping[str, float], **kw: Any
    ) -> list[Trade]:
        cap = kw.get("cap")
        slack = None if cap is None else cap + kw["min_trade_weight"]
        return super().diff_trades(current, targets, **{**kw, "cap": slack})


class BucketLimitIgnored(Stages):
    """The trades ignore the bucket limit (no small change forced, no fitting)."""

    def diff_trades(
        self, current: Mapping[str, float], targets: Mapping[str, float], **kw: Any
    ) -> list[Trade]:
        return super().diff_trades(current, targets, **{**kw, "bucket_of": None})


class BucketLimitSlack(Stages):
    """A bucket counts as above max_bucket_allocation only min_trade_weight beyond it (the
    limit given the trade filter's slack)."""

    def diff_trades(
        self, current: Mapping[str, float], targets: Mapping[str, float], **kw: Any
    ) -> list[Trade]:
        limit = kw.get("bucket_limit")
        slack = None if limit is None else limit + kw["min_trade_weight"]
        return super().diff_trades(current, targets, **{**kw, "bucket_limit": slack})


# --- execution ------------------------------------------------------------------------


class OrdersFirstDecisionCounts(Stages):
    """The first decision of the day per asset counts, not the last."""

    def orders_of(self, decisions: Iterable[TradeDecided]) -> list[Order]:
        first: dict[str, TradeDecided] = {}
        for decision in decisions:
            first.setdefault(decision.asset, decision)
        return super().orders_of(first.values())


class OrdersBlockedLastIgnored(Stages):
    """A blocked last decision does not cancel an earlier approved one of the day."""

    def orders_of(self, decisions: Iterable[TradeDecided]) -> list[Order]:
        traded = [d for d in decisions if d.outcome in (APPROVED, AMENDED)]
        return super().orders_of(traded)


class CommissionNotOnBuys(Stages):
    """Commission is charged on sells only."""

    def fee(self, notional: float, side: str, commission: float) -> float:
        return 0.0 if side == BUY else super().fee(notional, side, commission)


class SlippageSignFlipped(Stages):
    """Slippage with its sign flipped: buys below the close, sells above it."""

    def fill_price(self, close: float, side: str, slip: float) -> float:
        return super().fill_price(close, side, -slip)


class SlippageIgnored(Stages):
    """Every fill at the close: slippage_bps ignored."""

    def fill_price(self, close: float, side: str, slip: float) -> float:
        return super().fill_price(close, side, 0.0)


class CashFloorPreSellCash(Stages):
    """Buys are scaled against the cash before the sells."""

    def buy_scale(self, buy_cost: float, cash: float, cash_before_sells: float) -> float:
        return super().buy_scale(buy_cost, cash_before_sells, cash_before_sells)


class CashFloorIgnored(Stages):
    """Buys are never scaled: cash may go negative."""

    def buy_scale(self, buy_cost: float, cash: float, cash_before_sells: float) -> float:
        return 1.0


# --- resolution -----------------------------------------------------------------------


class SeverityOneRankLow(Stages):
    """A regime change one severity below regime_severity_threshold still overrides."""

    def severity_reaches(self, severity: str, threshold: str) -> bool:
        return severity_rank(severity) + 1 >= severity_rank(threshold)


class RegimeOverrideSkipped(Stages):
    """No regime change ever reaches the threshold: the override never lifts."""

    def severity_reaches(self, severity: str, threshold: str) -> bool:
        return False


class CooldownIgnored(Stages):
    """An asset may use a regime override on every change: the cooldown ignored."""

    def override_eligible(
        self, ledger: RegimeOverrideLedger, asset: str, day: dt.date, cooldown: int
    ) -> bool:
        return True


class CooldownOffByOne(Stages):
    """The cooldown a day longer (`>` for `>=` regime_override_cooldown days)."""

    def override_eligible(
        self, ledger: RegimeOverrideLedger, asset: str, day: dt.date, cooldown: int
    ) -> bool:
        return super().override_eligible(ledger, asset, day, cooldown + 1)


class ReplanOneRoundFewer(Stages):
    """One re-plan round fewer than max_negotiation_rounds (the cap off by one)."""

    def replan_request(self, held: HeldBack, round_: int, max_rounds: int) -> RequestReplan | None:
        return super().replan_request(held, round_, max_rounds - 1)


class ReplanSkipped(Stages):
    """No re-plan ever: blocks free slots and weight that stay unused."""

    def replan_request(self, held: HeldBack, round_: int, max_rounds: int) -> RequestReplan | None:
        return None


def _stage(rule: rules.Rule, how: str, cls: type[Stages]) -> Mutant:
    line = " ".join(str(cls.__doc__).split("\n\n")[0].split())
    return Mutant(f"{rule.id}/{how}", rule.id, line, stages=cls)


STAGE_MUTANTS: tuple[Mutant, ...] = (
    _stage(rules.SCORE, "weights_swapped", ScoreWeightsSwapped),
    _stage(rules.SCORE, "fundamental_ignored", ScoreFundamentalIgnored),
    _stage(rules.DYNAMIC_LIMITS, "never_reverts", DynamicLimitsNeverRevert),
    _stage(rules.DYNAMIC_LIMITS, "aggression_ignored", DynamicLimitsAggressionIgnored),
    _stage(rules.DYNAMIC_LIMITS, "total_kept", DynamicLimitsTotalKept),
    _stage(rules.HIGH_VOLATILITY, "ignored", HighVolatilityIgnored),
    _stage(rules.HIGH_VOLATILITY, "unfloored", HighVolatilityUnfloored),
    _stage(rules.HIGH_VOLATILITY, "rounded_up", HighVolatilityRoundedUp),
    _stage(rules.CONCENTRATION, "ignored", ConcentrationIgnored),
    _stage(rules.CONCENTRATION, "min_new_one_low", ConcentrationMinNewOneLow),
    _stage(rules.CONCENTRATION, "others_first_ignored", ConcentrationOthersFirstIgnored),
    _stage(rules.SCORE_DECAY, "ignored", ScoreDecayIgnored),
    _stage(rules.SCORE_DECAY, "early", ScoreDecayEarly),
    _stage(rules.KEEP_THRESHOLD, "ignored", KeepThresholdIgnored),
    _stage(rules.KEEP_THRESHOLD, "open_level", KeepThresholdOpenLevel),
    _stage(rules.REVIEW_THRESHOLD, "ignored", ReviewThresholdIgnored),
    _stage(rules.REVIEW_THRESHOLD, "strict", ReviewThresholdStrict),
    _stage(rules.TRENDING_EXISTING, "ignored", TrendingExistingIgnored),
    _stage(rules.TRENDING_EXISTING, "strict", TrendingExistingStrict),
    _stage(rules.OPEN_THRESHOLD, "keep_level", OpenThresholdKeepLevel),
    _stage(rules.OPEN_THRESHOLD, "trending_ignored", OpenTrendingIgnored),
    _stage(rules.UNIVERSE, "strict", UniverseStrict),
    _stage(rules.UNIVERSE, "existing_level", UniverseExistingLevel),
    _stage(rules.MAX_NEW, "ignored", MaxNewIgnored),
    _stage(rules.MAX_NEW, "off_by_one", MaxNewOffByOne),
    _stage(rules.MAX_NEW, "budget_not_reduced", MaxNewBudgetNotReduced),
    _stage(rules.MAX_TOTAL, "ignored", MaxTotalIgnored),
    _stage(rules.MAX_TOTAL, "locked_not_counted", MaxTotalLockedNotCounted),
    _stage(rules.BUCKET_SLOTS, "per_bucket_ignored", BucketSlotsPerBucketIgnored),
    _stage(rules.BUCKET_SLOTS, "favored_ignored", BucketSlotsFavoredIgnored),
    _stage(rules.CORRELATION, "ignored", CorrelationIgnored),
    _stage(rules.CORRELATION, "at_limit", CorrelationAtLimit),
    _stage(rules.CORRELATION, "signed", CorrelationSigned),
    _stage(rules.BUCKET_OVERRIDE, "threshold_ignored", BucketOverrideThresholdIgnored),
    _stage(rules.BUCKET_OVERRIDE, "one_more", BucketOverrideOneMore),
    _stage(rules.OVERRIDE_CORE_REQUEST, "threshold_ignored", CoreRequestThresholdIgnored),
    _stage(rules.OVERRIDE_CORE_REQUEST, "every_day", CoreRequestEveryDay),
    _stage(rules.MIN_BUCKETS, "skipped", MinBucketsSkipped),
    _stage(rules.MIN_BUCKETS, "one_short", MinBucketsOneShort),
    _stage(rules.BUCKET_ALLOCATION, "ignored", BucketAllocationIgnored),
    _stage(rules.BUCKET_ALLOCATION, "locked_ignored", BucketAllocationLockedIgnored),
    _stage(rules.RAW_WEIGHTS, "adaptive_without_one", RawAdaptiveWithoutOne),
    _stage(rules.RAW_WEIGHTS, "score_ignored", RawScoreIgnored),
    _stage(rules.VOLATILITY, "inverted", VolatilityInverted),
    _stage(rules.VOLATILITY, "ignored", VolatilityIgnored),
    _stage(rules.CAP, "once", CapOnce),
    _stage(rules.CAP, "ignored", CapIgnored),
    _stage(rules.NO_ROOM, "skipped", NoRoomSkipped),
    _stage(rules.MIN_POSITION, "ignored", MinPositionIgnored),
    _stage(rules.MIN_POSITION, "strict", MinPositionStrict),
    _stage(rules.RESIDUAL, "skipped", ResidualSkipped),
    _stage(rules.RESIDUAL, "per_asset_ignored", ResidualPerAssetIgnored),
    _stage(rules.RESIDUAL, "multiple_ignored", ResidualMultipleIgnored),
    _stage(rules.DRAWDOWN, "ignored", DrawdownIgnored),
    _stage(rules.DRAWDOWN, "inverted", DrawdownInverted),
    _stage(rules.REBALANCE_DAY, "every_day", RebalanceEveryDay),
    _stage(rules.REBALANCE_DAY, "weekly_tuesday", RebalanceWeeklyTuesday),
    _stage(rules.REBALANCE_DAY, "regime_change_ignored", RebalanceRegimeChangeIgnored),
    _stage(rules.MIN_TRADE, "ignored", MinTradeIgnored),
    _stage(rules.MIN_TRADE, "closes_filtered", MinTradeClosesFiltered),
    _stage(rules.CAP_TRIM, "ignored", CapTrimIgnored),
    _stage(rules.CAP_TRIM, "slack", CapTrimSlack),
    _stage(rules.BUCKET_LIMIT, "ignored", BucketLimitIgnored),
    _stage(rules.BUCKET_LIMIT, "slack", BucketLimitSlack),
    _stage(rules.SELL_BEFORE_BUY, "first_decision_counts", OrdersFirstDecisionCounts),
    _stage(rules.SELL_BEFORE_BUY, "blocked_last_ignored", OrdersBlockedLastIgnored),
    _stage(rules.COSTS, "commission_not_on_buys", CommissionNotOnBuys),
    _stage(rules.COSTS, "slippage_sign_flipped", SlippageSignFlipped),
    _stage(rules.COSTS, "slippage_ignored", SlippageIgnored),
    _stage(rules.CASH_FLOOR, "pre_sell_cash", CashFloorPreSellCash),
    _stage(rules.CASH_FLOOR, "ignored", CashFloorIgnored),
    _stage(rules.REGIME_OVERRIDE, "one_rank_low", SeverityOneRankLow),
    _stage(rules.REGIME_OVERRIDE, "skipped", RegimeOverrideSkipped),
    _stage(rules.OVERRIDE_COOLDOWN, "ignored", CooldownIgnored),
    _stage(rules.OVERRIDE_COOLDOWN, "off_by_one", CooldownOffByOne),
    _stage(rules.REPLAN, "one_round_fewer", ReplanOneRoundFewer),
    _stage(rules.REPLAN, "skipped", ReplanSkipped),
)
"""The mutants of the stage rules, in the order of a day."""
