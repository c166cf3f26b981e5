import random

import pytest

from domain.execution import (
    _SOLVE_ITERATIONS,
    _SOLVE_TOLERANCE,
    CostRates,
    Order,
    _change,
    equity_of,
    execute,
    post_trade_factor,
)

PRICES = {"A": 100.0, "B": 50.0, "C": 20.0}


def test_execute_when_rebalancing_then_sells_come_before_buys():
    result = execute(
        [Order("p1", "A", 0.0), Order("p2", "B", 0.5)],
        cash=0.0,
        quantities={"A": 10.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    assert [(f.side, f.asset) for f in result.fills] == [("sell", "A"), ("buy", "B")]
    assert result.quantities == {"B": pytest.approx(10.0)}


def test_execute_when_buys_exceed_cash_then_scaled_and_cash_not_negative():
    result = execute(
        [Order("p1", "A", 0.6), Order("p2", "B", 0.6)],
        cash=1000.0,
        quantities={},
        prices=PRICES,
        slippage_bps=0,
        commission=0.001,
    )
    # Post-trade equity f x 1000 with f = 1 - 0.001 x 1.2 f, so f = 1 / 1.0012; the buys
    # want 1.2 f x 1000 at the close plus commission, more than the 1000 of cash.
    f = 1 / 1.0012
    assert result.cash >= 0.0
    assert result.buy_scale == pytest.approx(1000.0 / (1200.0 * f * 1.001), rel=1e-9)
    assert all(fill.scale == result.buy_scale for fill in result.fills)
    assert result.fills[0].requested_quantity == pytest.approx(6.0 * f, rel=1e-12)
    assert result.fills[0].quantity == pytest.approx(6.0 * f * result.buy_scale, rel=1e-12)


def test_post_trade_factor_when_one_buy_then_hand_calculation():
    # Buying half of the post-trade equity f at a 1 % commission: f = 1 - 0.01 x 0.5 f.
    f = post_trade_factor({}, [("A", 0.5, "buy")], CostRates.of(0.0, 0.01))
    assert f == pytest.approx(1 / 1.005, rel=1e-14)


def test_post_trade_factor_when_slippage_then_rates_of_both_sides():
    rates = CostRates.of(100.0, 0.01)  # 1 % slippage, 1 % commission
    assert rates.buy == pytest.approx(1.01 * 1.01 - 1)
    assert rates.sell == pytest.approx(1 - 0.99 * 0.99)
    f = post_trade_factor({"A": 0.4}, [("A", 0.0, "sell"), ("B", 0.3, "buy")], rates)
    assert f == pytest.approx((1 - 0.4 * rates.sell) / (1 + 0.3 * rates.buy), rel=1e-14)


def _factor_by_change(weights, targets, rates):
    """The fixed point of `post_trade_factor`, iterated through `_change` per trade."""
    factor = 1.0
    for _ in range(_SOLVE_ITERATIONS):
        cost = 0.0
        for asset, target, side in targets:
            delta = _change(target, side, weights.get(asset, 0.0), factor)
            cost += delta * rates.buy if delta > 0 else -delta * rates.sell
        new = 1.0 - cost
        if abs(new - factor) <= _SOLVE_TOLERANCE:
            return new
        factor = new
    return factor


def test_post_trade_factor_when_random_books_then_same_bits_as_iterating_change():
    rng = random.Random(11)
    for _ in range(300):
        assets = [f"A{k}" for k in range(rng.randint(1, 12))]
        weights = {a: rng.choice([0.0, -0.0, rng.random() / 4]) for a in assets}
        targets = [
            (a, rng.choice([0.0, -0.1, rng.random() / 4]), rng.choice(["buy", "sell", None]))
            for a in assets
        ]
        rates = CostRates.of(rng.choice([0.0, 5.0, 50.0]), rng.choice([0.0, 0.001, 0.02]))
        got = post_trade_factor(weights, targets, rates)
        assert got.hex() == _factor_by_change(weights, targets, rates).hex()


def test_execute_when_commission_then_traded_positions_end_exactly_at_target():
    result = execute(
        [Order("p1", "A", 0.3, "sell"), Order("p2", "B", 0.3, "buy")],
        cash=500.0,
        quantities={"A": 5.0},
        prices=PRICES,
        slippage_bps=20,
        commission=0.01,
    )
    equity = equity_of(result.cash, result.quantities, PRICES)
    assert equity < 1000.0  # the costs left equity
    for asset in ("A", "B"):
        assert result.quantities[asset] * PRICES[asset] / equity == pytest.approx(0.3, rel=1e-12)


def test_execute_when_increase_smaller_than_day_costs_then_nothing_sold():
    # A is to go from 0.5 to 0.5001, but the close of B costs 1 % of 0.5: ending at 0.5001
    # of the smaller equity would need a sale; an increase never sells.
    result = execute(
        [Order("p1", "A", 0.5001, "buy"), Order("p2", "B", 0.0, "sell")],
        cash=0.0,
        quantities={"A": 5.0, "B": 10.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.01,
    )
    assert [(f.asset, f.side) for f in result.fills] == [("B", "sell")]
    assert result.quantities["A"] == 5.0


def test_execute_when_slippage_and_commission_then_charged_against_trader():
    result = execute(
        [Order("p1", "A", 0.5)],
        cash=1000.0,
        quantities={},
        prices=PRICES,
        slippage_bps=10,
        commission=0.002,
    )
    fill = result.fills[0]
    assert fill.price == pytest.approx(100.1)
    assert fill.commission == pytest.approx(fill.notional * 0.002)
    assert result.cash == pytest.approx(1000.0 - fill.notional - fill.commission)


def test_execute_when_target_weight_then_quantity_from_equity_at_close():
    result = execute(
        [Order("p1", "C", 0.25)],
        cash=500.0,
        quantities={"A": 5.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    equity = equity_of(500.0, {"A": 5.0}, PRICES)
    assert result.quantities["C"] == pytest.approx(0.25 * equity / 20.0)


def test_execute_when_close_then_sells_everything_held():
    result = execute(
        [Order("p1", "A", 0.0)],
        cash=0.0,
        quantities={"A": 3.0},
        prices=PRICES,
        slippage_bps=25,
        commission=0.0,
    )
    assert result.fills[0].quantity == pytest.approx(3.0)
    assert "A" not in result.quantities


def test_execute_when_same_asset_ordered_twice_then_last_order_wins():
    result = execute(
        [Order("p1", "A", 0.5), Order("p2", "A", 0.1)],
        cash=1000.0,
        quantities={},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    assert [f.proposal_id for f in result.fills] == ["p2"]
    assert result.quantities["A"] == pytest.approx(1.0)


def test_execute_when_target_equals_holding_then_no_fill():
    result = execute(
        [Order("p1", "A", 0.5)],
        cash=500.0,
        quantities={"A": 5.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    assert result.fills == ()


def test_execute_when_cash_scales_a_buy_to_dust_then_no_fill():
    # With 1e-9 of cash, the buy is scaled to a notional far below MIN_NOTIONAL: no fill,
    # so nothing starts a holding clock for a position that does not exist.
    result = execute(
        [Order("p1", "A", 0.5, "buy")],
        cash=1e-9,
        quantities={"B": 10.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    assert result.fills == () and "A" not in result.quantities
