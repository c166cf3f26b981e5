"""Stage mutants: each one changes its step's decision on a small hand-built input, and
switches in through the registry as the run's stage rules (`Registry.stages`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest

from domain.catalogue import RULES
from domain.construction import Limits, plan_targets
from domain.construction.sizing import _Frame
from domain.execution import BUY, Book, trade_day
from domain.messages import APPROVED, BLOCKED, OPEN, RegimeUpdated, TradeDecided
from domain.protections.mutants import BUILTIN_MUTANTS, mutants_of
from domain.protections.registry import BUILTIN
from domain.resolution import HeldBack, RegimeOverrideLedger, override_context
from domain.stage_mutants import (
    STAGE_MUTANTS,
    CapIgnored,
    CommissionNotOnBuys,
    CooldownIgnored,
    DynamicLimitsNeverRevert,
)
from domain.stages import DEFAULT_STAGES, Stages
from tests.unit.test_construction_support import alternating_closes, cfg, inputs

BY_ID = {m.id: m for m in STAGE_MUTANTS}
D0 = dt.date(2024, 1, 2)
TWO = [("AAA", "X", 0.8), ("BBB", "Y", 0.7)]


def _plain(out: Any) -> Any:
    """A step's output as a comparable value (arrays rounded, reasons by code)."""
    if isinstance(out, np.ndarray):
        return tuple(np.round(out.astype(float), 9).tolist())
    if isinstance(out, tuple | list):
        return tuple(_plain(x) for x in out)
    if isinstance(out, dict):
        return tuple(sorted((k, _plain(v)) for k, v in out.items()))
    if isinstance(out, float):
        return round(out, 9)
    if hasattr(out, "code"):
        return out.code
    if attrs.has(type(out)):
        return _plain(attrs.asdict(out, recurse=False))
    return out


def _inp(assets=TWO, **kw: Any) -> Any:
    config = kw.pop("config", None) or cfg()
    return inputs(assets, config=config, **kw)


def _closes(rows: int = 300) -> np.ndarray:
    rng = np.random.default_rng(7)
    rets = rng.normal([0.002, -0.001], 0.01, size=(rows, 2))
    return 100.0 * np.exp(np.cumsum(rets, axis=0))


def score(s: Stages) -> Any:
    closes = _closes()
    board = s.score_as_of(
        closes,
        closes.shape[0] - 1,
        fundamentals=np.array([0.9, 0.1]),
        technical_weight=0.6,
        fundamental_weight=0.4,
    )
    return board.score


def limits_after_change(s: Stages) -> Any:
    changed, calm = _inp(regime_changed=True), _inp(regime_changed=False)
    return s.dynamic_limits(changed), s.dynamic_limits(calm)


def limits(**kw: Any) -> Callable[[Stages], Any]:
    return lambda s: s.dynamic_limits(_inp(**kw))


def high_vol(max_new: int) -> Callable[[Stages], Any]:
    closes = alternating_closes([0.05, 0.05])
    return limits(closes=closes, config=cfg(max_new_positions=max_new))


def rank(days: int) -> Callable[[Stages], Any]:
    return lambda s: s.rank_scores(_inp(weights={"AAA": 0.1}, days_held={"AAA": days}))


def keep(score_: float) -> Callable[[Stages], Any]:
    return lambda s: s.check_keep_threshold(_inp([("AAA", "X", score_)]), 0)


def review(score_: float) -> Callable[[Stages], Any]:
    return lambda s: s.check_review(_inp([("AAA", "X", score_)], review_due={"AAA"}), 0)


def trending_existing(level: float) -> Callable[[Stages], Any]:
    def probe(s: Stages) -> Any:
        inp = _inp(config=cfg(trending_confidence_existing=0.5), trending={"AAA": level})
        return s.check_trending_existing(inp, 0)

    return probe


def opens(**kw: Any) -> Callable[[Stages], Any]:
    return lambda s: s.open_eligible(_inp([("AAA", "X", 0.62), ("BBB", "Y", 0.9)], **kw))


def room(max_total: int, new_budget: int, n_locked: int, n_keep: int) -> Callable[[Stages], Any]:
    lim = Limits(max_total=max_total, max_new=3, new_budget=new_budget)
    return lambda s: s.portfolio_room(lim, n_locked, n_keep)


def slots(max_per_bucket: int) -> Callable[[Stages], Any]:
    return lambda s: s.bucket_slots(["X", "Y"], 10, ["X"], max_per_bucket)


def correlation(value: float, limit: float = 0.8) -> Callable[[Stages], Any]:
    corr = np.array([[1.0, value], [value, 1.0]])
    return lambda s: s.correlation_drops([0, 1], [False, True], corr, limit)


def mirrored(s: Stages) -> Any:
    rets = np.random.default_rng(7).normal(0.0, 0.01, size=(30, 1))
    return s.abs_correlations(np.hstack([rets, -rets]), 20)


def min_buckets(s: Stages) -> Any:
    assets = [("X1", "X", 0.9), ("X2", "X", 0.85), ("Y1", "Y", 0.7)]
    inp = _inp(assets, config=cfg(max_new_positions=2), stages=s)
    return sorted(plan_targets(inp).targets)


def overrides(scores: list[float]) -> Callable[[Stages], Any]:
    """The plan of one held X asset (one slot per bucket) and X candidates scoring `scores`."""
    assets = [("H", "X", 0.8)] + [(f"N{i}", "X", v) for i, v in enumerate(scores)]
    config = cfg(max_positions_per_bucket=1, max_new_positions=5, min_buckets_represented=1)
    return lambda s: sorted(
        plan_targets(_inp(assets, config=config, weights={"H": 0.1}, stages=s)).targets
    )


def core_asks(threshold: float, requested: frozenset[str]) -> Callable[[Stages], Any]:
    """The core requests of a plan whose one smart override, N0, scores 0.98."""
    assets = [("H", "X", 0.8), ("N0", "X", 0.98)]
    config = cfg(max_positions_per_bucket=1, min_buckets_represented=1)
    plan = plan_targets(_inp(assets, config=config, weights={"H": 0.1}))
    assert plan.overrides
    return lambda s: sorted(s.core_requests(plan, D0, threshold, frozenset(), requested))


def scale(weights: list[float], locked: dict[str, float]) -> Callable[[Stages], Any]:
    w, n = np.array(weights), len(weights)
    return lambda s: s.scale_buckets(w, ["X"] * n, np.zeros(n, dtype=bool), locked, 0.4)


def raw(s: Stages) -> Any:
    out = s.raw_weights(np.array([0.8, 0.4]), cfg(), 1.0)
    return out / out.sum()


def vol(s: Stages) -> Any:
    return s.volatility_factors(np.array([0.01, 0.02]))


def cap(s: Stages) -> Any:
    return s.cap_and_normalise(np.array([4.0, 3.0, 1.0]), 0.4, 1.0)


def no_room(s: Stages) -> Any:
    config = cfg(target_total_allocation=0.9)
    inp = _inp([("AAA", "X", 0.8), ("BBB", "Y", 0.7)], config=config, locked={"AAA": 0.9})
    return s.check_no_room(inp, _Frame.of(inp), [1])


def min_position(small: float) -> Callable[[Stages], Any]:
    w = np.array([0.5, small])
    return lambda s: s.check_min_position(_inp(), w, [0, 1], np.array([0.8, 0.7]))


def residual(weights: list[float]) -> Callable[[Stages], Any]:
    w = np.array(weights)
    config = cfg(max_single_position_size=0.5)
    args = (np.array([0.8, 0.7]), ["AAA", "BBB"], [None, None], {}, config, 0.3)
    return lambda s: s.allocate_residual(w, *args)[0]


def drawdown(level: float) -> Callable[[Stages], Any]:
    return lambda s: s.drawdown_factor(_inp(drawdown=level))


def trades(current: dict, targets: dict, **kw: Any) -> Callable[[Stages], Any]:
    def probe(s: Stages) -> Any:
        out = s.diff_trades(current, targets, min_trade_weight=0.005, **kw)
        return [(t.asset, t.action, round(t.to_weight, 9)) for t in out]

    return probe


bucket_trades = trades(
    {"AAA": 0.22, "BBB": 0.2},
    {"AAA": 0.218, "BBB": 0.18},
    bucket_of={"AAA": "X", "BBB": "X"},
    bucket_limit=0.4,
)


def rebalance(day: dt.date, changed: bool = False) -> Callable[[Stages], Any]:
    return lambda s: s.rebalance_due("weekly", day, day - dt.timedelta(days=1), changed)


def _decision(outcome: str, final: float) -> TradeDecided:
    return TradeDecided(
        proposal_id=f"p-{outcome}",
        asset="AAA",
        action=OPEN,
        outcome=outcome,
        from_weight=0.0,
        final_weight=final,
        decided_by="orchestrator",
    )


def orders(s: Stages) -> Any:
    return s.orders_of([_decision(APPROVED, 0.1), _decision(BLOCKED, 0.0)])


def cooldown(days: int) -> Callable[[Stages], Any]:
    ledger = RegimeOverrideLedger()
    ledger.record("AAA", D0)
    return lambda s: s.override_eligible(ledger, "AAA", D0 + dt.timedelta(days=days), 30)


def replan(s: Stages) -> Any:
    return s.replan_request(HeldBack(held_back=True), 2, 3)


PROBES: dict[str, Callable[[Stages], Any]] = {
    "scoring.score/weights_swapped": score,
    "scoring.score/fundamental_ignored": score,
    "construction.dynamic_limits/never_reverts": limits_after_change,
    "construction.dynamic_limits/aggression_ignored": limits(regime_changed=True),
    "construction.dynamic_limits/total_kept": limits(regime_changed=True),
    "construction.high_volatility/ignored": limits(closes=alternating_closes([0.05, 0.05])),
    "construction.high_volatility/unfloored": high_vol(1),
    "construction.high_volatility/rounded_up": high_vol(3),
    "construction.concentration/ignored": limits(weights={"AAA": 0.5}),
    "construction.concentration/min_new_one_low": limits(
        weights={"AAA": 0.5}, config=cfg(max_new_positions=1)
    ),
    "construction.concentration/others_first_ignored": limits(weights={"AAA": 0.5}),
    "selection.score_decay/ignored": rank(45),
    "selection.score_decay/early": rank(10),
    "selection.keep_threshold/ignored": keep(0.5),
    "selection.keep_threshold/open_level": keep(0.62),
    "selection.review_threshold/ignored": review(0.62),
    "selection.review_threshold/strict": review(0.65),
    "selection.trending_existing/ignored": trending_existing(0.2),
    "selection.trending_existing/strict": trending_existing(0.5),
    "selection.open_threshold/keep_level": opens(),
    "selection.open_threshold/trending_ignored": opens(trending={"BBB": 0.2}),
    "selection.universe/strict": opens(trending={"BBB": 0.7}),
    "selection.universe/existing_level": opens(trending={"BBB": 0.2}),
    "selection.max_new/ignored": room(10, 3, 0, 0),
    "selection.max_new/off_by_one": room(10, 3, 0, 0),
    "selection.max_new/budget_not_reduced": room(10, 1, 0, 0),
    "selection.max_total/ignored": room(5, 3, 0, 4),
    "selection.max_total/locked_not_counted": room(5, 3, 2, 2),
    "construction.bucket_slots/per_bucket_ignored": slots(4),
    "construction.bucket_slots/favored_ignored": slots(10),
    "construction.correlation/ignored": correlation(0.9),
    "construction.correlation/at_limit": correlation(0.8),
    "construction.correlation/signed": mirrored,
    "construction.bucket_override/threshold_ignored": overrides([0.98, 0.9]),
    "construction.bucket_override/one_more": overrides([0.98, 0.97, 0.96]),
    "construction.override_core_request/threshold_ignored": core_asks(0.99, frozenset()),
    "construction.override_core_request/every_day": core_asks(0.95, frozenset({"N0"})),
    "construction.min_buckets/skipped": min_buckets,
    "construction.min_buckets/one_short": min_buckets,
    "construction.bucket_allocation/ignored": scale([0.3, 0.3], {}),
    "construction.bucket_allocation/locked_ignored": scale([0.2], {"X": 0.3}),
    "sizing.raw_weights/adaptive_without_one": raw,
    "sizing.raw_weights/score_ignored": raw,
    "sizing.volatility/inverted": vol,
    "sizing.volatility/ignored": vol,
    "sizing.cap/once": cap,
    "sizing.cap/ignored": cap,
    "sizing.no_room/skipped": no_room,
    "sizing.min_position/ignored": min_position(0.01),
    "sizing.min_position/strict": min_position(0.02),
    "sizing.residual/skipped": residual([0.2, 0.2]),
    "sizing.residual/per_asset_ignored": residual([0.2, 0.2]),
    "sizing.residual/multiple_ignored": residual([0.05, 0.05]),
    "sizing.drawdown/ignored": drawdown(0.5),
    "sizing.drawdown/inverted": drawdown(0.0),
    "trading.rebalance_day/every_day": rebalance(D0),
    "trading.rebalance_day/weekly_tuesday": rebalance(D0),
    "trading.rebalance_day/regime_change_ignored": rebalance(D0, changed=True),
    "trades.min_trade/ignored": trades({"AAA": 0.1}, {"AAA": 0.101}),
    "trades.min_trade/closes_filtered": trades({"AAA": 0.003}, {}),
    "trades.cap_trim/ignored": trades({"AAA": 0.202}, {"AAA": 0.2}, cap=0.2),
    "trades.cap_trim/slack": trades({"AAA": 0.202}, {"AAA": 0.2}, cap=0.2),
    "trades.bucket_limit/ignored": bucket_trades,
    "trades.bucket_limit/slack": trades(
        {"AAA": 0.203, "BBB": 0.2},
        {"AAA": 0.2, "BBB": 0.2},
        bucket_of={"AAA": "X", "BBB": "X"},
        bucket_limit=0.4,
    ),
    "execution.sell_before_buy/first_decision_counts": orders,
    "execution.sell_before_buy/blocked_last_ignored": orders,
    "execution.costs/commission_not_on_buys": lambda s: s.fee(100.0, BUY, 0.001),
    "execution.costs/slippage_sign_flipped": lambda s: s.fill_price(100.0, BUY, 0.001),
    "execution.costs/slippage_ignored": lambda s: s.fill_price(100.0, BUY, 0.001),
    "execution.cash_floor/pre_sell_cash": lambda s: s.buy_scale(150.0, 200.0, 100.0),
    "execution.cash_floor/ignored": lambda s: s.buy_scale(150.0, 100.0, 100.0),
    "resolution.regime_override/one_rank_low": lambda s: s.severity_reaches("normal", "high"),
    "resolution.regime_override/skipped": lambda s: s.severity_reaches("critical", "high"),
    "resolution.override_cooldown/ignored": cooldown(5),
    "resolution.override_cooldown/off_by_one": cooldown(30),
    "resolution.replan/one_round_fewer": replan,
    "resolution.replan/skipped": replan,
}


@pytest.mark.parametrize("mutant_id", sorted(PROBES))
def test_step_when_stage_mutant_switched_in_then_decision_differs_from_the_rule(mutant_id):
    mutant = BY_ID[mutant_id]

    assert issubclass(mutant.stages, Stages) and mutant.stages is not Stages
    assert _plain(PROBES[mutant_id](mutant.stages())) != _plain(PROBES[mutant_id](Stages()))


def test_catalogue_when_listed_then_every_stage_mutant_has_a_probe_and_a_stage_rule():
    assert set(BY_ID) == set(PROBES)
    assert all(m.rule in RULES and m.id.startswith(f"{m.rule}/") for m in STAGE_MUTANTS)
    assert all(RULES[m.rule].owner not in BUILTIN.names for m in STAGE_MUTANTS)
    assert len(STAGE_MUTANTS) >= 30 and len({m.rule for m in STAGE_MUTANTS}) >= 15
    assert len(BUILTIN_MUTANTS) >= 64 and len({m.rule for m in BUILTIN_MUTANTS}) >= 31


def test_apply_when_stage_mutant_then_a_fresh_instance_of_its_class_and_the_same_rows():
    mutant = BY_ID["construction.dynamic_limits/never_reverts"]
    registry = BUILTIN.without(["whipsaw"])

    first, second = mutant.apply(registry), mutant.apply(registry)

    assert mutant.applies_to(registry) and mutant.applies_to(BUILTIN.without(BUILTIN.names))
    assert type(first.stages) is DynamicLimitsNeverRevert
    assert first.stages is not second.stages
    assert first.rows == registry.rows
    assert registry.stages is DEFAULT_STAGES


def test_registry_when_rows_added_or_removed_then_its_stages_kept():
    registry = BY_ID["sizing.cap/ignored"].apply(BUILTIN)

    assert registry.without(["whipsaw"]).stages is registry.stages
    assert registry.with_rows([]).stages is registry.stages


def test_mutants_of_when_registry_listed_then_stage_mutants_included():
    found = mutants_of(BUILTIN.without(BUILTIN.names))

    assert set(STAGE_MUTANTS) <= set(found)


# --- the call sites use the stages they are given ----------------------------------------


def test_plan_when_cap_ignored_stages_given_then_a_position_above_the_cap():
    inp = _inp([("AAA", "X", 0.9), ("BBB", "Y", 0.7)], config=cfg(max_single_position_size=0.2))

    stated = plan_targets(inp).targets
    broken = plan_targets(attrs.evolve(inp, stages=CapIgnored())).targets

    assert max(stated.values()) <= 0.2 + 1e-12
    assert max(broken.values()) > 0.2


def test_trade_day_when_commission_not_on_buys_then_the_buy_pays_none():
    decisions = [_decision(APPROVED, 0.5)]
    kw = dict(day=D0, prices={"AAA": 100.0}, slippage_bps=0.0, commission=0.01)

    stated = trade_day(Book(1000.0), decisions, **kw)
    broken = trade_day(Book(1000.0), decisions, stages=CommissionNotOnBuys(), **kw)

    assert stated.fills[0].commission > 0
    assert broken.fills[0].commission == 0.0


def test_override_context_when_registry_stages_ignore_the_cooldown_then_eligible():
    regime = RegimeUpdated(
        regime="Deflation",
        previous="Goldilocks",
        changed=True,
        severity="critical",
        confidence=1.0,
        stability=0.0,
    )
    ledger = RegimeOverrideLedger()
    ledger.record("AAA", D0)
    day = D0 + dt.timedelta(days=3)

    mutated = BY_ID["resolution.override_cooldown/ignored"].apply(BUILTIN)

    stated = override_context(regime, "AAA", day, ledger, cfg(), BUILTIN)
    broken = override_context(regime, "AAA", day, ledger, cfg(), mutated)

    assert isinstance(mutated.stages, CooldownIgnored)
    assert not stated.eligible
    assert broken.eligible
