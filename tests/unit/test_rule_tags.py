"""The rule ids the stages put on the rows they shape (docs/event-db.md, "Rules"): fills,
trades, regime updates, the limit rules of a rebalance, a proposal's stage rules and the
cooldown on a decision."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from domain.config import Config
from domain.construction import Limits, Trade
from domain.construction.proposals import limit_rules, score_rule, trade_rules
from domain.construction.trades import diff_trades
from domain.execution import Order, execute
from domain.messages import BLOCK, CLOSE
from domain.regimes import regime_rules
from domain.resolution import RegimeOverrideLedger, override_context, resolve
from domain.scoring import OVERRIDE_SCORE
from tests.unit.protection_support import config, day, proposal, regime, verdict
from tests.unit.test_construction_proposals import choice, plan

PRICES = {"A": 100.0, "B": 50.0}


def _fills(orders, *, cash, quantities, commission=0.0, slippage_bps=0.0):
    result = execute(
        orders,
        cash=cash,
        quantities=quantities,
        prices=PRICES,
        slippage_bps=slippage_bps,
        commission=commission,
    )
    return {f.asset: f for f in result.fills}


def test_execute_when_costless_buy_from_cash_then_fill_names_no_rule():
    fills = _fills([Order("p", "A", 0.5, "buy")], cash=1000.0, quantities={})
    assert fills["A"].rules == ()


def test_execute_when_buy_after_a_sale_with_costs_then_costs_and_sell_before_buy():
    fills = _fills(
        [Order("p", "A", 0.0, "sell"), Order("q", "B", 0.9, "buy")],
        cash=0.0,
        quantities={"A": 10.0},
        commission=0.001,
    )
    assert fills["A"].rules == ("execution.costs",)
    assert fills["B"].rules == ("execution.costs", "execution.sell_before_buy")


def test_execute_when_cash_short_then_scaled_buy_names_cash_floor():
    fills = _fills(
        [Order("p", "A", 0.9, "buy")], cash=100.0, quantities={"B": 18.0}, slippage_bps=5
    )
    assert fills["A"].scale < 1.0
    assert fills["A"].rules == ("execution.costs", "execution.cash_floor")


def test_diff_trades_when_changes_meet_min_trade_cap_and_bucket_then_each_names_its_rule():
    trades = diff_trades(
        {"A": 0.30, "B": 0.2005, "C": 0.201, "D": 0.2},
        {"A": 0.20, "B": 0.2, "C": 0.2, "D": 0.199, "E": 0.1},
        min_trade_weight=0.005,
        cap=0.2,
        bucket_of={"A": "x", "B": "y", "C": "z", "D": "z", "E": "w"},
        bucket_limit=0.4,
    )
    rules = {t.asset: t.rule for t in trades}
    assert rules == {
        "A": "trades.min_trade",
        "B": "trades.cap_trim",
        "C": "trades.cap_trim",
        "D": "trades.bucket_limit",
        "E": None,
    }


def test_diff_trades_when_replan_withdraws_an_open_then_resolution_replan():
    trades = diff_trades({}, {}, min_trade_weight=0.005, baseline={"A": 0.1})
    assert [(t.asset, t.to_weight, t.rule) for t in trades] == [("A", 0.0, "resolution.replan")]


def test_trade_rules_when_sized_by_score_and_volatility_then_both_named_with_the_trade_rule():
    cfg = Config(position_size_scaling="score_weighted", volatility_position_scaling=True)
    the_plan = plan(choice("A"))
    trade = Trade("A", "increase", 0.1, 0.15, "", "trades.min_trade")

    assert trade_rules(trade, the_plan, cfg) == {
        "trade": "trades.min_trade",
        "raw_weight": "sizing.raw_weights",
        "volatility": "sizing.volatility",
    }
    equal = Config(position_size_scaling="equal_weight", volatility_position_scaling=False)
    assert trade_rules(attrs.evolve(trade, rule=None), the_plan, equal) == {}


def test_trade_rules_when_close_then_no_sizing_rule():
    cfg = Config(position_size_scaling="score_weighted", volatility_position_scaling=True)
    the_plan = plan(choice("A", "below_keep_threshold", selected=False))
    assert trade_rules(Trade("A", "close", 0.1, 0.0, ""), the_plan, cfg) == {}


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (Limits(max_total=10, max_new=3, new_budget=3), ()),
        (
            Limits(10, 3, 3, regime_changed=True, high_volatility=True, concentrated=True),
            (
                "construction.dynamic_limits",
                "construction.high_volatility",
                "construction.concentration",
            ),
        ),
        (Limits(10, 1, 1, high_volatility=True), ("construction.high_volatility",)),
    ],
)
def test_limit_rules_when_limits_adjusted_then_the_adjusting_rules_in_order(limits, expected):
    assert limit_rules(limits) == expected


class _Board:
    def __init__(self, scripted):
        self.components = {OVERRIDE_SCORE: np.array(scripted, dtype=float)}


def test_score_rule_when_some_score_from_the_formula_then_scoring_score():
    column = {"A": 0, "B": 1}
    assert score_rule(_Board([0.9, np.nan]), column, {"A": 0.9, "B": 0.5}) == "scoring.score"
    assert score_rule(_Board([0.9, 0.3]), column, {"A": 0.9, "B": 0.3}) is None
    assert score_rule(_Board([np.nan, np.nan]), column, {}) is None


def test_regime_rules_when_change_and_favoured_buckets_then_severity_and_favoured():
    assert regime_rules(True, ("Growth",)) == ("regime.severity", "regime.favored_buckets")
    assert regime_rules(False, ()) == ()


def test_resolve_when_cooldown_keeps_the_lift_then_decision_names_the_cooldown():
    ledger = RegimeOverrideLedger()
    upd = regime("Deflation", "Goldilocks", changed=True, severity="critical")
    ledger.record("AAA", day(0))
    cfg = config(regime_override_cooldown=30)
    within = override_context(upd, "AAA", day(29), ledger, cfg)
    after = override_context(upd, "AAA", day(30), ledger, cfg)
    blocks = [verdict("holding_period", BLOCK, 4)]

    cooled = resolve(proposal("AAA", CLOSE), blocks, within).decision
    lifted = resolve(proposal("AAA", CLOSE), blocks, after).decision
    unblocked = resolve(proposal("AAA", CLOSE), [], within).decision

    assert cooled.rules == ("resolution.override_cooldown",)
    assert lifted.rules == () and unblocked.rules == ()
